SELECT
  "t81"."account_id",
  "t81"."name",
  "t81"."segment",
  "t81"."owner",
  "t81"."arr",
  "t81"."seats",
  "t81"."created_at",
  "t81"."renewal_date",
  "t81"."segment_rule",
  "t81"."as_of",
  "t81"."p26__rows",
  "t81"."p26__latest",
  "t81"."p26__value",
  "t81"."p25__rows",
  "t81"."p25__latest",
  "t81"."p22__rows",
  "t81"."p22__latest",
  "t81"."p21__rows",
  "t81"."p21__latest",
  "t81"."p23__rows",
  "t81"."p23__latest",
  "t81"."p17__rows",
  "t81"."p17__latest",
  "t81"."p18__rows",
  "t81"."p18__latest",
  "t81"."p24__rows",
  "t81"."p24__latest",
  "t81"."p20__rows",
  "t81"."p20__latest",
  "t81"."p27__rows",
  "t81"."p27__latest",
  "t81"."p27__value",
  "t81"."p8__rows",
  "t81"."p8__latest",
  "t81"."p8__value",
  "t81"."p9__rows",
  "t81"."p9__latest",
  "t81"."p9__value",
  "t81"."p0__rows",
  "t81"."p0__latest",
  "t81"."p0__value",
  "t81"."p1__rows",
  "t81"."p1__latest",
  "t81"."p1__value",
  "t81"."p2__rows",
  "t81"."p2__latest",
  "t81"."p3__rows",
  "t81"."p3__latest",
  "t81"."p4__rows",
  "t81"."p4__latest",
  "t81"."p5__rows",
  "t81"."p5__latest",
  "t81"."p6__rows",
  "t81"."p6__latest",
  "t81"."p7__rows",
  "t81"."p7__latest",
  "t81"."p7__value",
  "t81"."p10__rows",
  "t81"."p10__latest",
  "t81"."p11__rows",
  "t81"."p11__latest",
  "t81"."p11__value",
  "t81"."p12__rows",
  "t81"."p12__latest",
  "t81"."p13__rows",
  "t81"."p13__latest",
  "t81"."p14__rows",
  "t81"."p14__latest",
  "t81"."p15__rows",
  "t81"."p15__latest",
  "t81"."p16__rows",
  "t81"."p16__latest",
  "t81"."p16__value",
  "t81"."p19__rows",
  "t81"."p19__latest",
  "t81"."p19__value"
FROM (
  SELECT
    "t80"."account_id",
    "t80"."name",
    "t80"."segment",
    "t80"."owner",
    "t80"."arr",
    "t80"."seats",
    "t80"."created_at",
    "t80"."renewal_date",
    "t80"."segment_rule",
    "t80"."as_of",
    "t80"."p26__rows",
    "t80"."p26__latest",
    "t80"."p26__value",
    "t80"."p25__rows",
    "t80"."p25__latest",
    "t80"."p22__rows",
    "t80"."p22__latest",
    "t80"."p21__rows",
    "t80"."p21__latest",
    "t80"."p23__rows",
    "t80"."p23__latest",
    "t80"."p17__rows",
    "t80"."p17__latest",
    "t80"."p18__rows",
    "t80"."p18__latest",
    "t80"."p24__rows",
    "t80"."p24__latest",
    "t80"."p20__rows",
    "t80"."p20__latest",
    "t80"."p27__rows",
    "t80"."p27__latest",
    "t80"."p27__value",
    "t80"."p8__rows",
    "t80"."p8__latest",
    "t80"."p8__value",
    "t80"."p9__rows",
    "t80"."p9__latest",
    "t80"."p9__value",
    "t80"."p0__rows",
    "t80"."p0__latest",
    "t80"."p0__value",
    "t80"."p1__rows",
    "t80"."p1__latest",
    "t80"."p1__value",
    "t80"."p2__rows",
    "t80"."p2__latest",
    "t80"."p3__rows",
    "t80"."p3__latest",
    "t80"."p4__rows",
    "t80"."p4__latest",
    "t80"."p5__rows",
    "t80"."p5__latest",
    "t80"."p6__rows",
    "t80"."p6__latest",
    "t80"."p7__rows",
    "t80"."p7__latest",
    "t80"."p7__value",
    "t40"."g_account_id",
    "t40"."p10__rows",
    "t40"."p10__latest",
    "t40"."p11__rows",
    "t40"."p11__latest",
    "t40"."p11__value",
    "t40"."p12__rows",
    "t40"."p12__latest",
    "t40"."p13__rows",
    "t40"."p13__latest",
    "t40"."p14__rows",
    "t40"."p14__latest",
    "t40"."p15__rows",
    "t40"."p15__latest",
    "t40"."p16__rows",
    "t40"."p16__latest",
    "t40"."p16__value",
    "t40"."p19__rows",
    "t40"."p19__latest",
    "t40"."p19__value"
  FROM (
    SELECT
      "t78"."account_id",
      "t78"."name",
      "t78"."segment",
      "t78"."owner",
      "t78"."arr",
      "t78"."seats",
      "t78"."created_at",
      "t78"."renewal_date",
      "t78"."segment_rule",
      "t78"."as_of",
      "t78"."p26__rows",
      "t78"."p26__latest",
      "t78"."p26__value",
      "t78"."p25__rows",
      "t78"."p25__latest",
      "t78"."p22__rows",
      "t78"."p22__latest",
      "t78"."p21__rows",
      "t78"."p21__latest",
      "t78"."p23__rows",
      "t78"."p23__latest",
      "t78"."p17__rows",
      "t78"."p17__latest",
      "t78"."p18__rows",
      "t78"."p18__latest",
      "t78"."p24__rows",
      "t78"."p24__latest",
      "t78"."p20__rows",
      "t78"."p20__latest",
      "t78"."p27__rows",
      "t78"."p27__latest",
      "t78"."p27__value",
      "t78"."p8__rows",
      "t78"."p8__latest",
      "t78"."p8__value",
      "t78"."p9__rows",
      "t78"."p9__latest",
      "t78"."p9__value",
      "t78"."p0__rows",
      "t78"."p0__latest",
      "t78"."p0__value",
      "t78"."p1__rows",
      "t78"."p1__latest",
      "t78"."p1__value",
      "t78"."p2__rows",
      "t78"."p2__latest",
      "t78"."p3__rows",
      "t78"."p3__latest",
      "t78"."p4__rows",
      "t78"."p4__latest",
      "t78"."p5__rows",
      "t78"."p5__latest",
      "t78"."p6__rows",
      "t78"."p6__latest",
      "t78"."p7__rows",
      "t78"."p7__latest",
      "t78"."p7__value"
    FROM (
      SELECT
        "t77"."account_id",
        "t77"."name",
        "t77"."segment",
        "t77"."owner",
        "t77"."arr",
        "t77"."seats",
        "t77"."created_at",
        "t77"."renewal_date",
        "t77"."segment_rule",
        "t77"."as_of",
        "t77"."p26__rows",
        "t77"."p26__latest",
        "t77"."p26__value",
        "t77"."p25__rows",
        "t77"."p25__latest",
        "t77"."p22__rows",
        "t77"."p22__latest",
        "t77"."p21__rows",
        "t77"."p21__latest",
        "t77"."p23__rows",
        "t77"."p23__latest",
        "t77"."p17__rows",
        "t77"."p17__latest",
        "t77"."p18__rows",
        "t77"."p18__latest",
        "t77"."p24__rows",
        "t77"."p24__latest",
        "t77"."p20__rows",
        "t77"."p20__latest",
        "t77"."p27__rows",
        "t77"."p27__latest",
        "t77"."p27__value",
        "t77"."p8__rows",
        "t77"."p8__latest",
        "t77"."p8__value",
        "t77"."p9__rows",
        "t77"."p9__latest",
        "t77"."p9__value",
        "t77"."p0__rows",
        "t77"."p0__latest",
        "t77"."p0__value",
        "t77"."p1__rows",
        "t77"."p1__latest",
        "t77"."p1__value",
        "t34"."g_account_id",
        "t34"."p2__rows",
        "t34"."p2__latest",
        "t34"."p3__rows",
        "t34"."p3__latest",
        "t34"."p4__rows",
        "t34"."p4__latest",
        "t34"."p5__rows",
        "t34"."p5__latest",
        "t34"."p6__rows",
        "t34"."p6__latest",
        "t34"."p7__rows",
        "t34"."p7__latest",
        "t34"."p7__value"
      FROM (
        SELECT
          "t75"."account_id",
          "t75"."name",
          "t75"."segment",
          "t75"."owner",
          "t75"."arr",
          "t75"."seats",
          "t75"."created_at",
          "t75"."renewal_date",
          "t75"."segment_rule",
          "t75"."as_of",
          "t75"."p26__rows",
          "t75"."p26__latest",
          "t75"."p26__value",
          "t75"."p25__rows",
          "t75"."p25__latest",
          "t75"."p22__rows",
          "t75"."p22__latest",
          "t75"."p21__rows",
          "t75"."p21__latest",
          "t75"."p23__rows",
          "t75"."p23__latest",
          "t75"."p17__rows",
          "t75"."p17__latest",
          "t75"."p18__rows",
          "t75"."p18__latest",
          "t75"."p24__rows",
          "t75"."p24__latest",
          "t75"."p20__rows",
          "t75"."p20__latest",
          "t75"."p27__rows",
          "t75"."p27__latest",
          "t75"."p27__value",
          "t75"."p8__rows",
          "t75"."p8__latest",
          "t75"."p8__value",
          "t75"."p9__rows",
          "t75"."p9__latest",
          "t75"."p9__value",
          "t75"."p0__rows",
          "t75"."p0__latest",
          "t75"."p0__value",
          "t75"."p1__rows",
          "t75"."p1__latest",
          "t75"."p1__value"
        FROM (
          SELECT
            "t74"."account_id",
            "t74"."name",
            "t74"."segment",
            "t74"."owner",
            "t74"."arr",
            "t74"."seats",
            "t74"."created_at",
            "t74"."renewal_date",
            "t74"."segment_rule",
            "t74"."as_of",
            "t74"."p26__rows",
            "t74"."p26__latest",
            "t74"."p26__value",
            "t74"."p25__rows",
            "t74"."p25__latest",
            "t74"."p22__rows",
            "t74"."p22__latest",
            "t74"."p21__rows",
            "t74"."p21__latest",
            "t74"."p23__rows",
            "t74"."p23__latest",
            "t74"."p17__rows",
            "t74"."p17__latest",
            "t74"."p18__rows",
            "t74"."p18__latest",
            "t74"."p24__rows",
            "t74"."p24__latest",
            "t74"."p20__rows",
            "t74"."p20__latest",
            "t74"."p27__rows",
            "t74"."p27__latest",
            "t74"."p27__value",
            "t74"."p8__rows",
            "t74"."p8__latest",
            "t74"."p8__value",
            "t74"."p9__rows",
            "t74"."p9__latest",
            "t74"."p9__value",
            "t28"."g_account_id",
            "t28"."p0__rows",
            "t28"."p0__latest",
            "t28"."p0__value",
            "t28"."p1__rows",
            "t28"."p1__latest",
            "t28"."p1__value"
          FROM (
            SELECT
              "t72"."account_id",
              "t72"."name",
              "t72"."segment",
              "t72"."owner",
              "t72"."arr",
              "t72"."seats",
              "t72"."created_at",
              "t72"."renewal_date",
              "t72"."segment_rule",
              "t72"."as_of",
              "t72"."p26__rows",
              "t72"."p26__latest",
              "t72"."p26__value",
              "t72"."p25__rows",
              "t72"."p25__latest",
              "t72"."p22__rows",
              "t72"."p22__latest",
              "t72"."p21__rows",
              "t72"."p21__latest",
              "t72"."p23__rows",
              "t72"."p23__latest",
              "t72"."p17__rows",
              "t72"."p17__latest",
              "t72"."p18__rows",
              "t72"."p18__latest",
              "t72"."p24__rows",
              "t72"."p24__latest",
              "t72"."p20__rows",
              "t72"."p20__latest",
              "t72"."p27__rows",
              "t72"."p27__latest",
              "t72"."p27__value",
              "t72"."p8__rows",
              "t72"."p8__latest",
              "t72"."p8__value",
              "t72"."p9__rows",
              "t72"."p9__latest",
              "t72"."p9__value"
            FROM (
              SELECT
                "t71"."account_id",
                "t71"."name",
                "t71"."segment",
                "t71"."owner",
                "t71"."arr",
                "t71"."seats",
                "t71"."created_at",
                "t71"."renewal_date",
                "t71"."segment_rule",
                "t71"."as_of",
                "t71"."p26__rows",
                "t71"."p26__latest",
                "t71"."p26__value",
                "t71"."p25__rows",
                "t71"."p25__latest",
                "t71"."p22__rows",
                "t71"."p22__latest",
                "t71"."p21__rows",
                "t71"."p21__latest",
                "t71"."p23__rows",
                "t71"."p23__latest",
                "t71"."p17__rows",
                "t71"."p17__latest",
                "t71"."p18__rows",
                "t71"."p18__latest",
                "t71"."p24__rows",
                "t71"."p24__latest",
                "t71"."p20__rows",
                "t71"."p20__latest",
                "t71"."p27__rows",
                "t71"."p27__latest",
                "t71"."p27__value",
                "t41"."g_account_id",
                "t41"."p8__rows",
                "t41"."p8__latest",
                "t41"."p8__value",
                "t41"."p9__rows",
                "t41"."p9__latest",
                "t41"."p9__value"
              FROM (
                SELECT
                  "t69"."account_id",
                  "t69"."name",
                  "t69"."segment",
                  "t69"."owner",
                  "t69"."arr",
                  "t69"."seats",
                  "t69"."created_at",
                  "t69"."renewal_date",
                  "t69"."segment_rule",
                  "t69"."as_of",
                  "t69"."p26__rows",
                  "t69"."p26__latest",
                  "t69"."p26__value",
                  "t69"."p25__rows",
                  "t69"."p25__latest",
                  "t69"."p22__rows",
                  "t69"."p22__latest",
                  "t69"."p21__rows",
                  "t69"."p21__latest",
                  "t69"."p23__rows",
                  "t69"."p23__latest",
                  "t69"."p17__rows",
                  "t69"."p17__latest",
                  "t69"."p18__rows",
                  "t69"."p18__latest",
                  "t69"."p24__rows",
                  "t69"."p24__latest",
                  "t69"."p20__rows",
                  "t69"."p20__latest",
                  "t69"."p27__rows",
                  "t69"."p27__latest",
                  "t69"."p27__value"
                FROM (
                  SELECT
                    "t68"."account_id",
                    "t68"."name",
                    "t68"."segment",
                    "t68"."owner",
                    "t68"."arr",
                    "t68"."seats",
                    "t68"."created_at",
                    "t68"."renewal_date",
                    "t68"."segment_rule",
                    "t68"."as_of",
                    "t68"."p26__rows",
                    "t68"."p26__latest",
                    "t68"."p26__value",
                    "t68"."p25__rows",
                    "t68"."p25__latest",
                    "t68"."p22__rows",
                    "t68"."p22__latest",
                    "t68"."p21__rows",
                    "t68"."p21__latest",
                    "t68"."p23__rows",
                    "t68"."p23__latest",
                    "t68"."p17__rows",
                    "t68"."p17__latest",
                    "t68"."p18__rows",
                    "t68"."p18__latest",
                    "t68"."p24__rows",
                    "t68"."p24__latest",
                    "t36"."g_account_id",
                    "t36"."p20__rows",
                    "t36"."p20__latest",
                    "t36"."p27__rows",
                    "t36"."p27__latest",
                    "t36"."p27__value"
                  FROM (
                    SELECT
                      "t66"."account_id",
                      "t66"."name",
                      "t66"."segment",
                      "t66"."owner",
                      "t66"."arr",
                      "t66"."seats",
                      "t66"."created_at",
                      "t66"."renewal_date",
                      "t66"."segment_rule",
                      "t66"."as_of",
                      "t66"."p26__rows",
                      "t66"."p26__latest",
                      "t66"."p26__value",
                      "t66"."p25__rows",
                      "t66"."p25__latest",
                      "t66"."p22__rows",
                      "t66"."p22__latest",
                      "t66"."p21__rows",
                      "t66"."p21__latest",
                      "t66"."p23__rows",
                      "t66"."p23__latest",
                      "t66"."p17__rows",
                      "t66"."p17__latest",
                      "t66"."p18__rows",
                      "t66"."p18__latest",
                      "t66"."p24__rows",
                      "t66"."p24__latest"
                    FROM (
                      SELECT
                        "t65"."account_id",
                        "t65"."name",
                        "t65"."segment",
                        "t65"."owner",
                        "t65"."arr",
                        "t65"."seats",
                        "t65"."created_at",
                        "t65"."renewal_date",
                        "t65"."segment_rule",
                        "t65"."as_of",
                        "t65"."p26__rows",
                        "t65"."p26__latest",
                        "t65"."p26__value",
                        "t65"."p25__rows",
                        "t65"."p25__latest",
                        "t65"."p22__rows",
                        "t65"."p22__latest",
                        "t65"."p21__rows",
                        "t65"."p21__latest",
                        "t65"."p23__rows",
                        "t65"."p23__latest",
                        "t65"."p17__rows",
                        "t65"."p17__latest",
                        "t65"."p18__rows",
                        "t65"."p18__latest",
                        "t46"."g_account_id",
                        "t46"."p24__rows",
                        "t46"."p24__latest"
                      FROM (
                        SELECT
                          "t63"."account_id",
                          "t63"."name",
                          "t63"."segment",
                          "t63"."owner",
                          "t63"."arr",
                          "t63"."seats",
                          "t63"."created_at",
                          "t63"."renewal_date",
                          "t63"."segment_rule",
                          "t63"."as_of",
                          "t63"."p26__rows",
                          "t63"."p26__latest",
                          "t63"."p26__value",
                          "t63"."p25__rows",
                          "t63"."p25__latest",
                          "t63"."p22__rows",
                          "t63"."p22__latest",
                          "t63"."p21__rows",
                          "t63"."p21__latest",
                          "t63"."p23__rows",
                          "t63"."p23__latest",
                          "t63"."p17__rows",
                          "t63"."p17__latest",
                          "t63"."p18__rows",
                          "t63"."p18__latest"
                        FROM (
                          SELECT
                            "t62"."account_id",
                            "t62"."name",
                            "t62"."segment",
                            "t62"."owner",
                            "t62"."arr",
                            "t62"."seats",
                            "t62"."created_at",
                            "t62"."renewal_date",
                            "t62"."segment_rule",
                            "t62"."as_of",
                            "t62"."p26__rows",
                            "t62"."p26__latest",
                            "t62"."p26__value",
                            "t62"."p25__rows",
                            "t62"."p25__latest",
                            "t62"."p22__rows",
                            "t62"."p22__latest",
                            "t62"."p21__rows",
                            "t62"."p21__latest",
                            "t62"."p23__rows",
                            "t62"."p23__latest",
                            "t62"."p17__rows",
                            "t62"."p17__latest",
                            "t37"."g_account_id",
                            "t37"."p18__rows",
                            "t37"."p18__latest"
                          FROM (
                            SELECT
                              "t60"."account_id",
                              "t60"."name",
                              "t60"."segment",
                              "t60"."owner",
                              "t60"."arr",
                              "t60"."seats",
                              "t60"."created_at",
                              "t60"."renewal_date",
                              "t60"."segment_rule",
                              "t60"."as_of",
                              "t60"."p26__rows",
                              "t60"."p26__latest",
                              "t60"."p26__value",
                              "t60"."p25__rows",
                              "t60"."p25__latest",
                              "t60"."p22__rows",
                              "t60"."p22__latest",
                              "t60"."p21__rows",
                              "t60"."p21__latest",
                              "t60"."p23__rows",
                              "t60"."p23__latest",
                              "t60"."p17__rows",
                              "t60"."p17__latest"
                            FROM (
                              SELECT
                                "t59"."account_id",
                                "t59"."name",
                                "t59"."segment",
                                "t59"."owner",
                                "t59"."arr",
                                "t59"."seats",
                                "t59"."created_at",
                                "t59"."renewal_date",
                                "t59"."segment_rule",
                                "t59"."as_of",
                                "t59"."p26__rows",
                                "t59"."p26__latest",
                                "t59"."p26__value",
                                "t59"."p25__rows",
                                "t59"."p25__latest",
                                "t59"."p22__rows",
                                "t59"."p22__latest",
                                "t59"."p21__rows",
                                "t59"."p21__latest",
                                "t59"."p23__rows",
                                "t59"."p23__latest",
                                "t47"."g_account_id",
                                "t47"."p17__rows",
                                "t47"."p17__latest"
                              FROM (
                                SELECT
                                  "t57"."account_id",
                                  "t57"."name",
                                  "t57"."segment",
                                  "t57"."owner",
                                  "t57"."arr",
                                  "t57"."seats",
                                  "t57"."created_at",
                                  "t57"."renewal_date",
                                  "t57"."segment_rule",
                                  "t57"."as_of",
                                  "t57"."p26__rows",
                                  "t57"."p26__latest",
                                  "t57"."p26__value",
                                  "t57"."p25__rows",
                                  "t57"."p25__latest",
                                  "t57"."p22__rows",
                                  "t57"."p22__latest",
                                  "t57"."p21__rows",
                                  "t57"."p21__latest",
                                  "t57"."p23__rows",
                                  "t57"."p23__latest"
                                FROM (
                                  SELECT
                                    "t56"."account_id",
                                    "t56"."name",
                                    "t56"."segment",
                                    "t56"."owner",
                                    "t56"."arr",
                                    "t56"."seats",
                                    "t56"."created_at",
                                    "t56"."renewal_date",
                                    "t56"."segment_rule",
                                    "t56"."as_of",
                                    "t56"."p26__rows",
                                    "t56"."p26__latest",
                                    "t56"."p26__value",
                                    "t56"."p25__rows",
                                    "t56"."p25__latest",
                                    "t56"."p22__rows",
                                    "t56"."p22__latest",
                                    "t38"."g_account_id",
                                    "t38"."p21__rows",
                                    "t38"."p21__latest",
                                    "t38"."p23__rows",
                                    "t38"."p23__latest"
                                  FROM (
                                    SELECT
                                      "t54"."account_id",
                                      "t54"."name",
                                      "t54"."segment",
                                      "t54"."owner",
                                      "t54"."arr",
                                      "t54"."seats",
                                      "t54"."created_at",
                                      "t54"."renewal_date",
                                      "t54"."segment_rule",
                                      "t54"."as_of",
                                      "t54"."p26__rows",
                                      "t54"."p26__latest",
                                      "t54"."p26__value",
                                      "t54"."p25__rows",
                                      "t54"."p25__latest",
                                      "t54"."p22__rows",
                                      "t54"."p22__latest"
                                    FROM (
                                      SELECT
                                        "t53"."account_id",
                                        "t53"."name",
                                        "t53"."segment",
                                        "t53"."owner",
                                        "t53"."arr",
                                        "t53"."seats",
                                        "t53"."created_at",
                                        "t53"."renewal_date",
                                        "t53"."segment_rule",
                                        "t53"."as_of",
                                        "t53"."p26__rows",
                                        "t53"."p26__latest",
                                        "t53"."p26__value",
                                        "t53"."p25__rows",
                                        "t53"."p25__latest",
                                        "t48"."g_account_id",
                                        "t48"."p22__rows",
                                        "t48"."p22__latest"
                                      FROM (
                                        SELECT
                                          "t51"."account_id",
                                          "t51"."name",
                                          "t51"."segment",
                                          "t51"."owner",
                                          "t51"."arr",
                                          "t51"."seats",
                                          "t51"."created_at",
                                          "t51"."renewal_date",
                                          "t51"."segment_rule",
                                          "t51"."as_of",
                                          "t51"."p26__rows",
                                          "t51"."p26__latest",
                                          "t51"."p26__value",
                                          "t51"."p25__rows",
                                          "t51"."p25__latest"
                                        FROM (
                                          SELECT
                                            "t50"."account_id",
                                            "t50"."name",
                                            "t50"."segment",
                                            "t50"."owner",
                                            "t50"."arr",
                                            "t50"."seats",
                                            "t50"."created_at",
                                            "t50"."renewal_date",
                                            "t50"."segment_rule",
                                            "t50"."as_of",
                                            "t50"."p26__rows",
                                            "t50"."p26__latest",
                                            "t50"."p26__value",
                                            "t39"."g_account_id",
                                            "t39"."p25__rows",
                                            "t39"."p25__latest"
                                          FROM (
                                            SELECT
                                              "t45"."account_id",
                                              "t45"."name",
                                              "t45"."segment",
                                              "t45"."owner",
                                              "t45"."arr",
                                              "t45"."seats",
                                              "t45"."created_at",
                                              "t45"."renewal_date",
                                              "t45"."segment_rule",
                                              "t45"."as_of",
                                              "t45"."p26__rows",
                                              "t45"."p26__latest",
                                              "t45"."p26__value"
                                            FROM (
                                              SELECT
                                                "t23"."account_id",
                                                "t23"."name",
                                                "t23"."segment",
                                                "t23"."owner",
                                                "t23"."arr",
                                                "t23"."seats",
                                                "t23"."created_at",
                                                "t23"."renewal_date",
                                                "t23"."segment_rule",
                                                "t23"."as_of",
                                                "t26"."g_account_id",
                                                "t26"."p26__rows",
                                                "t26"."p26__latest",
                                                "t26"."p26__value"
                                              FROM (
                                                SELECT
                                                  "t8"."account_id",
                                                  "t8"."name",
                                                  "t8"."segment",
                                                  "t8"."owner",
                                                  "t8"."arr",
                                                  "t8"."seats",
                                                  "t8"."created_at",
                                                  "t8"."renewal_date",
                                                  CASE
                                                    WHEN TRUE AND COALESCE("t8"."segment" = 'enterprise', FALSE)
                                                    THEN 'enterprise'
                                                    WHEN TRUE AND COALESCE("t8"."segment" = 'SMB', FALSE)
                                                    THEN 'smb'
                                                    ELSE CAST(NULL AS VARCHAR)
                                                  END AS "segment_rule",
                                                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) AS "as_of"
                                                FROM "accounts" AS "t8"
                                                WHERE
                                                  (
                                                    "t8"."created_at" IS NULL
                                                  )
                                                  OR (
                                                    "t8"."created_at" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                                  )
                                              ) AS "t23"
                                              LEFT OUTER JOIN (
                                                SELECT
                                                  "t21"."account_id" AS "g_account_id",
                                                  COUNT("t21"."ts") FILTER(WHERE
                                                    TRUE AND (
                                                      "t21"."sentiment" IS NOT NULL
                                                    )) AS "p26__rows",
                                                  MAX("t21"."ts") FILTER(WHERE
                                                    TRUE AND (
                                                      "t21"."sentiment" IS NOT NULL
                                                    )) AS "p26__latest",
                                                  (
                                                    ARRAY_AGG("t21"."sentiment" ORDER BY "t21"."ts" DESC NULLS LAST) FILTER(WHERE
                                                      "t21"."ts" IS NOT NULL AND TRUE AND (
                                                        "t21"."sentiment" IS NOT NULL
                                                      ))
                                                  )[1] AS "p26__value"
                                                FROM (
                                                  SELECT
                                                    *
                                                  FROM "assessments" AS "t9"
                                                  WHERE
                                                    "t9"."ts" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                                ) AS "t21"
                                                GROUP BY
                                                  1
                                              ) AS "t26"
                                                ON "t23"."account_id" = "t26"."g_account_id"
                                            ) AS "t45"
                                          ) AS "t50"
                                          LEFT OUTER JOIN (
                                            SELECT
                                              "t20"."account_id" AS "g_account_id",
                                              COUNT("t20"."departed_at") FILTER(WHERE
                                                TRUE
                                                AND (
                                                  "t20"."departed_at" >= (
                                                    CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                                                  )
                                                )
                                                AND (
                                                  TRUE AND COALESCE("t20"."role" IN ('champion', 'sponsor'), FALSE)
                                                )) AS "p25__rows",
                                              MAX("t20"."departed_at") FILTER(WHERE
                                                TRUE
                                                AND (
                                                  "t20"."departed_at" >= (
                                                    CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                                                  )
                                                )
                                                AND (
                                                  TRUE AND COALESCE("t20"."role" IN ('champion', 'sponsor'), FALSE)
                                                )) AS "p25__latest"
                                            FROM (
                                              SELECT
                                                *
                                              FROM "contacts" AS "t7"
                                              WHERE
                                                "t7"."departed_at" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                                AND "t7"."departed_at" >= (
                                                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                                                )
                                            ) AS "t20"
                                            GROUP BY
                                              1
                                          ) AS "t39"
                                            ON "t50"."account_id" = "t39"."g_account_id"
                                        ) AS "t51"
                                      ) AS "t53"
                                      LEFT OUTER JOIN (
                                        SELECT
                                          "t19"."account_id" AS "g_account_id",
                                          COUNT("t19"."started_at") FILTER(WHERE
                                            TRUE
                                            AND (
                                              TRUE
                                              AND COALESCE("t19"."role" IN ('champion', 'sponsor'), FALSE)
                                              AND (
                                                FALSE
                                                OR (
                                                  TRUE AND COALESCE("t19"."departed_at" IS NULL, FALSE)
                                                )
                                                OR (
                                                  TRUE
                                                  AND COALESCE("t19"."departed_at" >= CAST('2025-06-01T00:00:00' AS TIMESTAMP), FALSE)
                                                )
                                              )
                                            )) AS "p22__rows",
                                          MAX("t19"."started_at") FILTER(WHERE
                                            TRUE
                                            AND (
                                              TRUE
                                              AND COALESCE("t19"."role" IN ('champion', 'sponsor'), FALSE)
                                              AND (
                                                FALSE
                                                OR (
                                                  TRUE AND COALESCE("t19"."departed_at" IS NULL, FALSE)
                                                )
                                                OR (
                                                  TRUE
                                                  AND COALESCE("t19"."departed_at" >= CAST('2025-06-01T00:00:00' AS TIMESTAMP), FALSE)
                                                )
                                              )
                                            )) AS "p22__latest"
                                        FROM (
                                          SELECT
                                            *
                                          FROM "contacts" AS "t7"
                                          WHERE
                                            "t7"."started_at" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                        ) AS "t19"
                                        GROUP BY
                                          1
                                      ) AS "t48"
                                        ON "t53"."account_id" = "t48"."g_account_id"
                                    ) AS "t54"
                                  ) AS "t56"
                                  LEFT OUTER JOIN (
                                    SELECT
                                      "t18"."account_id" AS "g_account_id",
                                      COUNT("t18"."ts") FILTER(WHERE
                                        TRUE
                                        AND (
                                          "t18"."ts" >= (
                                            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '120 DAY'
                                          )
                                        )
                                        AND (
                                          TRUE AND COALESCE("t18"."kind" = 'qbr', FALSE)
                                        )) AS "p21__rows",
                                      MAX("t18"."ts") FILTER(WHERE
                                        TRUE
                                        AND (
                                          "t18"."ts" >= (
                                            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '120 DAY'
                                          )
                                        )
                                        AND (
                                          TRUE AND COALESCE("t18"."kind" = 'qbr', FALSE)
                                        )) AS "p21__latest",
                                      COUNT("t18"."ts") FILTER(WHERE
                                        TRUE
                                        AND (
                                          "t18"."ts" >= (
                                            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                                          )
                                        )
                                        AND (
                                          TRUE AND COALESCE("t18"."direction" = 'inbound', FALSE)
                                        )) AS "p23__rows",
                                      MAX("t18"."ts") FILTER(WHERE
                                        TRUE
                                        AND (
                                          "t18"."ts" >= (
                                            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                                          )
                                        )
                                        AND (
                                          TRUE AND COALESCE("t18"."direction" = 'inbound', FALSE)
                                        )) AS "p23__latest"
                                    FROM (
                                      SELECT
                                        *
                                      FROM "interactions" AS "t6"
                                      WHERE
                                        "t6"."ts" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                        AND "t6"."ts" >= (
                                          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '120 DAY'
                                        )
                                    ) AS "t18"
                                    GROUP BY
                                      1
                                  ) AS "t38"
                                    ON "t56"."account_id" = "t38"."g_account_id"
                                ) AS "t57"
                              ) AS "t59"
                              LEFT OUTER JOIN (
                                SELECT
                                  "t17"."account_id" AS "g_account_id",
                                  COUNT("t17"."due_at") FILTER(WHERE
                                    TRUE
                                    AND (
                                      "t17"."due_at" >= (
                                        CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                                      )
                                    )
                                    AND (
                                      TRUE
                                      AND (
                                        FALSE
                                        OR (
                                          TRUE AND COALESCE("t17"."status" = 'failed', FALSE)
                                        )
                                        OR (
                                          TRUE AND COALESCE("t17"."paid_at" > "t17"."due_at", FALSE)
                                        )
                                      )
                                    )) AS "p17__rows",
                                  MAX("t17"."due_at") FILTER(WHERE
                                    TRUE
                                    AND (
                                      "t17"."due_at" >= (
                                        CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                                      )
                                    )
                                    AND (
                                      TRUE
                                      AND (
                                        FALSE
                                        OR (
                                          TRUE AND COALESCE("t17"."status" = 'failed', FALSE)
                                        )
                                        OR (
                                          TRUE AND COALESCE("t17"."paid_at" > "t17"."due_at", FALSE)
                                        )
                                      )
                                    )) AS "p17__latest"
                                FROM (
                                  SELECT
                                    *
                                  FROM "invoices" AS "t5"
                                  WHERE
                                    "t5"."due_at" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                    AND "t5"."due_at" >= (
                                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                                    )
                                ) AS "t17"
                                GROUP BY
                                  1
                              ) AS "t47"
                                ON "t59"."account_id" = "t47"."g_account_id"
                            ) AS "t60"
                          ) AS "t62"
                          LEFT OUTER JOIN (
                            SELECT
                              "t16"."account_id" AS "g_account_id",
                              COUNT("t16"."issued_at") FILTER(WHERE
                                TRUE
                                AND (
                                  "t16"."issued_at" >= (
                                    CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
                                  )
                                )
                                AND (
                                  TRUE AND COALESCE("t16"."status" = 'failed', FALSE)
                                )) AS "p18__rows",
                              MAX("t16"."issued_at") FILTER(WHERE
                                TRUE
                                AND (
                                  "t16"."issued_at" >= (
                                    CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
                                  )
                                )
                                AND (
                                  TRUE AND COALESCE("t16"."status" = 'failed', FALSE)
                                )) AS "p18__latest"
                            FROM (
                              SELECT
                                *
                              FROM "invoices" AS "t5"
                              WHERE
                                "t5"."issued_at" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                AND "t5"."issued_at" >= (
                                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
                                )
                            ) AS "t16"
                            GROUP BY
                              1
                          ) AS "t37"
                            ON "t62"."account_id" = "t37"."g_account_id"
                        ) AS "t63"
                      ) AS "t65"
                      LEFT OUTER JOIN (
                        SELECT
                          "t15"."account_id" AS "g_account_id",
                          COUNT("t15"."due_at") FILTER(WHERE
                            TRUE
                            AND (
                              "t15"."due_at" >= (
                                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                              )
                            )
                            AND (
                              TRUE
                              AND (
                                FALSE
                                OR (
                                  TRUE AND COALESCE("t15"."completed_at" IS NULL, FALSE)
                                )
                                OR (
                                  TRUE AND COALESCE("t15"."completed_at" > "t15"."due_at", FALSE)
                                )
                              )
                            )) AS "p24__rows",
                          MAX("t15"."due_at") FILTER(WHERE
                            TRUE
                            AND (
                              "t15"."due_at" >= (
                                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                              )
                            )
                            AND (
                              TRUE
                              AND (
                                FALSE
                                OR (
                                  TRUE AND COALESCE("t15"."completed_at" IS NULL, FALSE)
                                )
                                OR (
                                  TRUE AND COALESCE("t15"."completed_at" > "t15"."due_at", FALSE)
                                )
                              )
                            )) AS "p24__latest"
                        FROM (
                          SELECT
                            *
                          FROM "milestones" AS "t4"
                          WHERE
                            "t4"."due_at" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                            AND "t4"."due_at" >= (
                              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                            )
                        ) AS "t15"
                        GROUP BY
                          1
                      ) AS "t46"
                        ON "t65"."account_id" = "t46"."g_account_id"
                    ) AS "t66"
                  ) AS "t68"
                  LEFT OUTER JOIN (
                    SELECT
                      "t14"."account_id" AS "g_account_id",
                      COUNT("t14"."ts") FILTER(WHERE
                        TRUE
                        AND (
                          "t14"."ts" >= (
                            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '365 DAY'
                          )
                        )
                        AND (
                          TRUE AND COALESCE("t14"."kind" = 'expanded', FALSE)
                        )) AS "p20__rows",
                      MAX("t14"."ts") FILTER(WHERE
                        TRUE
                        AND (
                          "t14"."ts" >= (
                            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '365 DAY'
                          )
                        )
                        AND (
                          TRUE AND COALESCE("t14"."kind" = 'expanded', FALSE)
                        )) AS "p20__latest",
                      COUNT("t14"."ts") FILTER(WHERE
                        TRUE AND (
                          "t14"."kind" IS NOT NULL
                        )) AS "p27__rows",
                      MAX("t14"."ts") FILTER(WHERE
                        TRUE AND (
                          "t14"."kind" IS NOT NULL
                        )) AS "p27__latest",
                      (
                        ARRAY_AGG("t14"."kind" ORDER BY "t14"."ts" DESC NULLS LAST) FILTER(WHERE
                          "t14"."ts" IS NOT NULL AND TRUE AND (
                            "t14"."kind" IS NOT NULL
                          ))
                      )[1] AS "p27__value"
                    FROM (
                      SELECT
                        *
                      FROM "outcomes" AS "t3"
                      WHERE
                        "t3"."ts" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                    ) AS "t14"
                    GROUP BY
                      1
                  ) AS "t36"
                    ON "t68"."account_id" = "t36"."g_account_id"
                ) AS "t69"
              ) AS "t71"
              LEFT OUTER JOIN (
                SELECT
                  "t13"."account_id" AS "g_account_id",
                  COUNT("t13"."ts") FILTER(WHERE
                    TRUE
                    AND (
                      "t13"."ts" >= (
                        CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                      )
                    )
                    AND (
                      TRUE AND COALESCE("t13"."kind" = 'nps', FALSE)
                    )
                    AND (
                      "t13"."score" IS NOT NULL
                    )) AS "p8__rows",
                  MAX("t13"."ts") FILTER(WHERE
                    TRUE
                    AND (
                      "t13"."ts" >= (
                        CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                      )
                    )
                    AND (
                      TRUE AND COALESCE("t13"."kind" = 'nps', FALSE)
                    )
                    AND (
                      "t13"."score" IS NOT NULL
                    )) AS "p8__latest",
                  AVG("t13"."score") FILTER(WHERE
                    TRUE
                    AND (
                      "t13"."ts" >= (
                        CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                      )
                    )
                    AND (
                      TRUE AND COALESCE("t13"."kind" = 'nps', FALSE)
                    )
                    AND (
                      "t13"."score" IS NOT NULL
                    )) AS "p8__value",
                  COUNT("t13"."ts") FILTER(WHERE
                    TRUE
                    AND (
                      "t13"."ts" >= (
                        CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                      )
                    )
                    AND (
                      "t13"."comment_sentiment" IS NOT NULL
                    )) AS "p9__rows",
                  MAX("t13"."ts") FILTER(WHERE
                    TRUE
                    AND (
                      "t13"."ts" >= (
                        CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                      )
                    )
                    AND (
                      "t13"."comment_sentiment" IS NOT NULL
                    )) AS "p9__latest",
                  AVG("t13"."comment_sentiment") FILTER(WHERE
                    TRUE
                    AND (
                      "t13"."ts" >= (
                        CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                      )
                    )
                    AND (
                      "t13"."comment_sentiment" IS NOT NULL
                    )) AS "p9__value"
                FROM (
                  SELECT
                    *
                  FROM "surveys" AS "t2"
                  WHERE
                    "t2"."ts" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                    AND "t2"."ts" >= (
                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180 DAY'
                    )
                ) AS "t13"
                GROUP BY
                  1
              ) AS "t41"
                ON "t71"."account_id" = "t41"."g_account_id"
            ) AS "t72"
          ) AS "t74"
          LEFT OUTER JOIN (
            SELECT
              "t12"."account_id" AS "g_account_id",
              COUNT("t12"."closed_at") FILTER(WHERE
                TRUE
                AND (
                  "t12"."closed_at" >= (
                    CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                  )
                )
                AND (
                  "t12"."csat" IS NOT NULL
                )) AS "p0__rows",
              MAX("t12"."closed_at") FILTER(WHERE
                TRUE
                AND (
                  "t12"."closed_at" >= (
                    CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                  )
                )
                AND (
                  "t12"."csat" IS NOT NULL
                )) AS "p0__latest",
              AVG("t12"."csat") FILTER(WHERE
                TRUE
                AND (
                  "t12"."closed_at" >= (
                    CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                  )
                )
                AND (
                  "t12"."csat" IS NOT NULL
                )) AS "p0__value",
              COUNT("t12"."closed_at") FILTER(WHERE
                TRUE
                AND (
                  "t12"."closed_at" >= (
                    CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                  )
                )
                AND (
                  "t12"."ces" IS NOT NULL
                )) AS "p1__rows",
              MAX("t12"."closed_at") FILTER(WHERE
                TRUE
                AND (
                  "t12"."closed_at" >= (
                    CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                  )
                )
                AND (
                  "t12"."ces" IS NOT NULL
                )) AS "p1__latest",
              AVG("t12"."ces") FILTER(WHERE
                TRUE
                AND (
                  "t12"."closed_at" >= (
                    CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                  )
                )
                AND (
                  "t12"."ces" IS NOT NULL
                )) AS "p1__value"
            FROM (
              SELECT
                *
              FROM "tickets" AS "t1"
              WHERE
                "t1"."closed_at" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                AND "t1"."closed_at" >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
                )
            ) AS "t12"
            GROUP BY
              1
          ) AS "t28"
            ON "t74"."account_id" = "t28"."g_account_id"
        ) AS "t75"
      ) AS "t77"
      LEFT OUTER JOIN (
        SELECT
          "t11"."account_id" AS "g_account_id",
          COUNT("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
              )
            )) AS "p2__rows",
          MAX("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
              )
            )) AS "p2__latest",
          COUNT("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '60 DAY'
              )
            )
            AND (
              "t11"."opened_at" < (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
              )
            )) AS "p3__rows",
          MAX("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '60 DAY'
              )
            )
            AND (
              "t11"."opened_at" < (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
              )
            )) AS "p3__latest",
          COUNT("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
              )
            )
            AND (
              TRUE AND COALESCE("t11"."reopened" = TRUE, FALSE)
            )) AS "p4__rows",
          MAX("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
              )
            )
            AND (
              TRUE AND COALESCE("t11"."reopened" = TRUE, FALSE)
            )) AS "p4__latest",
          COUNT("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
              )
            )) AS "p5__rows",
          MAX("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
              )
            )) AS "p5__latest",
          COUNT("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
              )
            )
            AND (
              TRUE AND COALESCE("t11"."escalated" = TRUE, FALSE)
            )) AS "p6__rows",
          MAX("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
              )
            )
            AND (
              TRUE AND COALESCE("t11"."escalated" = TRUE, FALSE)
            )) AS "p6__latest",
          COUNT("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
              )
            )
            AND (
              "t11"."sla_met" IS NOT NULL
            )) AS "p7__rows",
          MAX("t11"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
              )
            )
            AND (
              "t11"."sla_met" IS NOT NULL
            )) AS "p7__latest",
          AVG(CASE WHEN "t11"."sla_met" THEN 1.0 ELSE 0.0 END) FILTER(WHERE
            TRUE
            AND (
              "t11"."opened_at" >= (
                CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
              )
            )
            AND (
              "t11"."sla_met" IS NOT NULL
            )) AS "p7__value"
        FROM (
          SELECT
            *
          FROM "tickets" AS "t1"
          WHERE
            "t1"."opened_at" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
            AND "t1"."opened_at" >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
            )
        ) AS "t11"
        GROUP BY
          1
      ) AS "t34"
        ON "t77"."account_id" = "t34"."g_account_id"
    ) AS "t78"
  ) AS "t80"
  LEFT OUTER JOIN (
    SELECT
      "t10"."account_id" AS "g_account_id",
      COUNT("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          TRUE AND COALESCE("t10"."event" = 'login', FALSE)
        )) AS "p10__rows",
      MAX("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          TRUE AND COALESCE("t10"."event" = 'login', FALSE)
        )) AS "p10__latest",
      COUNT("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          TRUE AND COALESCE("t10"."event" <> 'login', FALSE)
        )
        AND (
          "t10"."event" IS NOT NULL
        )) AS "p11__rows",
      MAX("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          TRUE AND COALESCE("t10"."event" <> 'login', FALSE)
        )
        AND (
          "t10"."event" IS NOT NULL
        )) AS "p11__latest",
      COUNT(DISTINCT "t10"."event") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          TRUE AND COALESCE("t10"."event" <> 'login', FALSE)
        )
        AND (
          "t10"."event" IS NOT NULL
        )) AS "p11__value",
      COUNT("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
          )
        )
        AND (
          TRUE AND COALESCE("t10"."event" = 'login', FALSE)
        )) AS "p12__rows",
      MAX("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
          )
        )
        AND (
          TRUE AND COALESCE("t10"."event" = 'login', FALSE)
        )) AS "p12__latest",
      COUNT("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )) AS "p13__rows",
      MAX("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )) AS "p13__latest",
      COUNT("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '60 DAY'
          )
        )
        AND (
          "t10"."ts" < (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )) AS "p14__rows",
      MAX("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '60 DAY'
          )
        )
        AND (
          "t10"."ts" < (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )) AS "p14__latest",
      COUNT("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
          )
        )) AS "p15__rows",
      MAX("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
          )
        )) AS "p15__latest",
      COUNT("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          "t10"."user_id" IS NOT NULL
        )) AS "p16__rows",
      MAX("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          "t10"."user_id" IS NOT NULL
        )) AS "p16__latest",
      COUNT(DISTINCT "t10"."user_id") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          "t10"."user_id" IS NOT NULL
        )) AS "p16__value",
      COUNT("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          "t10"."quantity" IS NOT NULL
        )) AS "p19__rows",
      MAX("t10"."ts") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          "t10"."quantity" IS NOT NULL
        )) AS "p19__latest",
      SUM("t10"."quantity") FILTER(WHERE
        TRUE
        AND (
          "t10"."ts" >= (
            CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
          )
        )
        AND (
          "t10"."quantity" IS NOT NULL
        )) AS "p19__value"
    FROM (
      SELECT
        *
      FROM "usage_events" AS "t0"
      WHERE
        "t0"."ts" < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
        AND "t0"."ts" >= (
          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
        )
    ) AS "t10"
    GROUP BY
      1
  ) AS "t40"
    ON "t80"."account_id" = "t40"."g_account_id"
) AS "t81"
