SELECT
  "t100".*
  EXCLUDE ("g_account_id")
FROM (
  SELECT
    "t99"."account_id",
    "t99"."created_at",
    "t99"."as_of",
    "t99"."name",
    "t99"."name__as_of_source",
    "t99"."segment",
    "t99"."segment__as_of_source",
    "t99"."owner",
    "t99"."owner__as_of_source",
    "t99"."arr",
    "t99"."arr__as_of_source",
    "t99"."seats",
    "t99"."seats__as_of_source",
    "t99"."renewal_date",
    "t99"."renewal_date__as_of_source",
    "t99"."segment_rule",
    "t99"."p26__rows",
    "t99"."p26__latest",
    "t99"."p26__value",
    "t99"."p25__rows",
    "t99"."p25__latest",
    "t99"."p22__rows",
    "t99"."p22__latest",
    "t99"."p21__rows",
    "t99"."p21__latest",
    "t99"."p23__rows",
    "t99"."p23__latest",
    "t99"."p17__rows",
    "t99"."p17__latest",
    "t99"."p18__rows",
    "t99"."p18__latest",
    "t99"."p24__rows",
    "t99"."p24__latest",
    "t99"."p20__rows",
    "t99"."p20__latest",
    "t99"."p27__rows",
    "t99"."p27__latest",
    "t99"."p27__value",
    "t99"."p8__rows",
    "t99"."p8__latest",
    "t99"."p8__value",
    "t99"."p9__rows",
    "t99"."p9__latest",
    "t99"."p9__value",
    "t99"."p0__rows",
    "t99"."p0__latest",
    "t99"."p0__value",
    "t99"."p1__rows",
    "t99"."p1__latest",
    "t99"."p1__value",
    "t99"."p2__rows",
    "t99"."p2__latest",
    "t99"."p3__rows",
    "t99"."p3__latest",
    "t99"."p4__rows",
    "t99"."p4__latest",
    "t99"."p5__rows",
    "t99"."p5__latest",
    "t99"."p6__rows",
    "t99"."p6__latest",
    "t99"."p7__rows",
    "t99"."p7__latest",
    "t99"."p7__value",
    "t50"."g_account_id",
    "t50"."p10__rows",
    "t50"."p10__latest",
    "t50"."p11__rows",
    "t50"."p11__latest",
    "t50"."p11__value",
    "t50"."p12__rows",
    "t50"."p12__latest",
    "t50"."p13__rows",
    "t50"."p13__latest",
    "t50"."p14__rows",
    "t50"."p14__latest",
    "t50"."p15__rows",
    "t50"."p15__latest",
    "t50"."p16__rows",
    "t50"."p16__latest",
    "t50"."p16__value",
    "t50"."p19__rows",
    "t50"."p19__latest",
    "t50"."p19__value"
  FROM (
    SELECT
      "t97".*
      EXCLUDE ("g_account_id")
    FROM (
      SELECT
        "t96"."account_id",
        "t96"."created_at",
        "t96"."as_of",
        "t96"."name",
        "t96"."name__as_of_source",
        "t96"."segment",
        "t96"."segment__as_of_source",
        "t96"."owner",
        "t96"."owner__as_of_source",
        "t96"."arr",
        "t96"."arr__as_of_source",
        "t96"."seats",
        "t96"."seats__as_of_source",
        "t96"."renewal_date",
        "t96"."renewal_date__as_of_source",
        "t96"."segment_rule",
        "t96"."p26__rows",
        "t96"."p26__latest",
        "t96"."p26__value",
        "t96"."p25__rows",
        "t96"."p25__latest",
        "t96"."p22__rows",
        "t96"."p22__latest",
        "t96"."p21__rows",
        "t96"."p21__latest",
        "t96"."p23__rows",
        "t96"."p23__latest",
        "t96"."p17__rows",
        "t96"."p17__latest",
        "t96"."p18__rows",
        "t96"."p18__latest",
        "t96"."p24__rows",
        "t96"."p24__latest",
        "t96"."p20__rows",
        "t96"."p20__latest",
        "t96"."p27__rows",
        "t96"."p27__latest",
        "t96"."p27__value",
        "t96"."p8__rows",
        "t96"."p8__latest",
        "t96"."p8__value",
        "t96"."p9__rows",
        "t96"."p9__latest",
        "t96"."p9__value",
        "t96"."p0__rows",
        "t96"."p0__latest",
        "t96"."p0__value",
        "t96"."p1__rows",
        "t96"."p1__latest",
        "t96"."p1__value",
        "t44"."g_account_id",
        "t44"."p2__rows",
        "t44"."p2__latest",
        "t44"."p3__rows",
        "t44"."p3__latest",
        "t44"."p4__rows",
        "t44"."p4__latest",
        "t44"."p5__rows",
        "t44"."p5__latest",
        "t44"."p6__rows",
        "t44"."p6__latest",
        "t44"."p7__rows",
        "t44"."p7__latest",
        "t44"."p7__value"
      FROM (
        SELECT
          "t94".*
          EXCLUDE ("g_account_id")
        FROM (
          SELECT
            "t93"."account_id",
            "t93"."created_at",
            "t93"."as_of",
            "t93"."name",
            "t93"."name__as_of_source",
            "t93"."segment",
            "t93"."segment__as_of_source",
            "t93"."owner",
            "t93"."owner__as_of_source",
            "t93"."arr",
            "t93"."arr__as_of_source",
            "t93"."seats",
            "t93"."seats__as_of_source",
            "t93"."renewal_date",
            "t93"."renewal_date__as_of_source",
            "t93"."segment_rule",
            "t93"."p26__rows",
            "t93"."p26__latest",
            "t93"."p26__value",
            "t93"."p25__rows",
            "t93"."p25__latest",
            "t93"."p22__rows",
            "t93"."p22__latest",
            "t93"."p21__rows",
            "t93"."p21__latest",
            "t93"."p23__rows",
            "t93"."p23__latest",
            "t93"."p17__rows",
            "t93"."p17__latest",
            "t93"."p18__rows",
            "t93"."p18__latest",
            "t93"."p24__rows",
            "t93"."p24__latest",
            "t93"."p20__rows",
            "t93"."p20__latest",
            "t93"."p27__rows",
            "t93"."p27__latest",
            "t93"."p27__value",
            "t93"."p8__rows",
            "t93"."p8__latest",
            "t93"."p8__value",
            "t93"."p9__rows",
            "t93"."p9__latest",
            "t93"."p9__value",
            "t38"."g_account_id",
            "t38"."p0__rows",
            "t38"."p0__latest",
            "t38"."p0__value",
            "t38"."p1__rows",
            "t38"."p1__latest",
            "t38"."p1__value"
          FROM (
            SELECT
              "t91".*
              EXCLUDE ("g_account_id")
            FROM (
              SELECT
                "t90"."account_id",
                "t90"."created_at",
                "t90"."as_of",
                "t90"."name",
                "t90"."name__as_of_source",
                "t90"."segment",
                "t90"."segment__as_of_source",
                "t90"."owner",
                "t90"."owner__as_of_source",
                "t90"."arr",
                "t90"."arr__as_of_source",
                "t90"."seats",
                "t90"."seats__as_of_source",
                "t90"."renewal_date",
                "t90"."renewal_date__as_of_source",
                "t90"."segment_rule",
                "t90"."p26__rows",
                "t90"."p26__latest",
                "t90"."p26__value",
                "t90"."p25__rows",
                "t90"."p25__latest",
                "t90"."p22__rows",
                "t90"."p22__latest",
                "t90"."p21__rows",
                "t90"."p21__latest",
                "t90"."p23__rows",
                "t90"."p23__latest",
                "t90"."p17__rows",
                "t90"."p17__latest",
                "t90"."p18__rows",
                "t90"."p18__latest",
                "t90"."p24__rows",
                "t90"."p24__latest",
                "t90"."p20__rows",
                "t90"."p20__latest",
                "t90"."p27__rows",
                "t90"."p27__latest",
                "t90"."p27__value",
                "t51"."g_account_id",
                "t51"."p8__rows",
                "t51"."p8__latest",
                "t51"."p8__value",
                "t51"."p9__rows",
                "t51"."p9__latest",
                "t51"."p9__value"
              FROM (
                SELECT
                  "t88".*
                  EXCLUDE ("g_account_id")
                FROM (
                  SELECT
                    "t87"."account_id",
                    "t87"."created_at",
                    "t87"."as_of",
                    "t87"."name",
                    "t87"."name__as_of_source",
                    "t87"."segment",
                    "t87"."segment__as_of_source",
                    "t87"."owner",
                    "t87"."owner__as_of_source",
                    "t87"."arr",
                    "t87"."arr__as_of_source",
                    "t87"."seats",
                    "t87"."seats__as_of_source",
                    "t87"."renewal_date",
                    "t87"."renewal_date__as_of_source",
                    "t87"."segment_rule",
                    "t87"."p26__rows",
                    "t87"."p26__latest",
                    "t87"."p26__value",
                    "t87"."p25__rows",
                    "t87"."p25__latest",
                    "t87"."p22__rows",
                    "t87"."p22__latest",
                    "t87"."p21__rows",
                    "t87"."p21__latest",
                    "t87"."p23__rows",
                    "t87"."p23__latest",
                    "t87"."p17__rows",
                    "t87"."p17__latest",
                    "t87"."p18__rows",
                    "t87"."p18__latest",
                    "t87"."p24__rows",
                    "t87"."p24__latest",
                    "t46"."g_account_id",
                    "t46"."p20__rows",
                    "t46"."p20__latest",
                    "t46"."p27__rows",
                    "t46"."p27__latest",
                    "t46"."p27__value"
                  FROM (
                    SELECT
                      "t85".*
                      EXCLUDE ("g_account_id")
                    FROM (
                      SELECT
                        "t84"."account_id",
                        "t84"."created_at",
                        "t84"."as_of",
                        "t84"."name",
                        "t84"."name__as_of_source",
                        "t84"."segment",
                        "t84"."segment__as_of_source",
                        "t84"."owner",
                        "t84"."owner__as_of_source",
                        "t84"."arr",
                        "t84"."arr__as_of_source",
                        "t84"."seats",
                        "t84"."seats__as_of_source",
                        "t84"."renewal_date",
                        "t84"."renewal_date__as_of_source",
                        "t84"."segment_rule",
                        "t84"."p26__rows",
                        "t84"."p26__latest",
                        "t84"."p26__value",
                        "t84"."p25__rows",
                        "t84"."p25__latest",
                        "t84"."p22__rows",
                        "t84"."p22__latest",
                        "t84"."p21__rows",
                        "t84"."p21__latest",
                        "t84"."p23__rows",
                        "t84"."p23__latest",
                        "t84"."p17__rows",
                        "t84"."p17__latest",
                        "t84"."p18__rows",
                        "t84"."p18__latest",
                        "t57"."g_account_id",
                        "t57"."p24__rows",
                        "t57"."p24__latest"
                      FROM (
                        SELECT
                          "t82".*
                          EXCLUDE ("g_account_id")
                        FROM (
                          SELECT
                            "t81"."account_id",
                            "t81"."created_at",
                            "t81"."as_of",
                            "t81"."name",
                            "t81"."name__as_of_source",
                            "t81"."segment",
                            "t81"."segment__as_of_source",
                            "t81"."owner",
                            "t81"."owner__as_of_source",
                            "t81"."arr",
                            "t81"."arr__as_of_source",
                            "t81"."seats",
                            "t81"."seats__as_of_source",
                            "t81"."renewal_date",
                            "t81"."renewal_date__as_of_source",
                            "t81"."segment_rule",
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
                            "t47"."g_account_id",
                            "t47"."p18__rows",
                            "t47"."p18__latest"
                          FROM (
                            SELECT
                              "t79".*
                              EXCLUDE ("g_account_id")
                            FROM (
                              SELECT
                                "t78"."account_id",
                                "t78"."created_at",
                                "t78"."as_of",
                                "t78"."name",
                                "t78"."name__as_of_source",
                                "t78"."segment",
                                "t78"."segment__as_of_source",
                                "t78"."owner",
                                "t78"."owner__as_of_source",
                                "t78"."arr",
                                "t78"."arr__as_of_source",
                                "t78"."seats",
                                "t78"."seats__as_of_source",
                                "t78"."renewal_date",
                                "t78"."renewal_date__as_of_source",
                                "t78"."segment_rule",
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
                                "t58"."g_account_id",
                                "t58"."p17__rows",
                                "t58"."p17__latest"
                              FROM (
                                SELECT
                                  "t76".*
                                  EXCLUDE ("g_account_id")
                                FROM (
                                  SELECT
                                    "t75"."account_id",
                                    "t75"."created_at",
                                    "t75"."as_of",
                                    "t75"."name",
                                    "t75"."name__as_of_source",
                                    "t75"."segment",
                                    "t75"."segment__as_of_source",
                                    "t75"."owner",
                                    "t75"."owner__as_of_source",
                                    "t75"."arr",
                                    "t75"."arr__as_of_source",
                                    "t75"."seats",
                                    "t75"."seats__as_of_source",
                                    "t75"."renewal_date",
                                    "t75"."renewal_date__as_of_source",
                                    "t75"."segment_rule",
                                    "t75"."p26__rows",
                                    "t75"."p26__latest",
                                    "t75"."p26__value",
                                    "t75"."p25__rows",
                                    "t75"."p25__latest",
                                    "t75"."p22__rows",
                                    "t75"."p22__latest",
                                    "t48"."g_account_id",
                                    "t48"."p21__rows",
                                    "t48"."p21__latest",
                                    "t48"."p23__rows",
                                    "t48"."p23__latest"
                                  FROM (
                                    SELECT
                                      "t73".*
                                      EXCLUDE ("g_account_id")
                                    FROM (
                                      SELECT
                                        "t72"."account_id",
                                        "t72"."created_at",
                                        "t72"."as_of",
                                        "t72"."name",
                                        "t72"."name__as_of_source",
                                        "t72"."segment",
                                        "t72"."segment__as_of_source",
                                        "t72"."owner",
                                        "t72"."owner__as_of_source",
                                        "t72"."arr",
                                        "t72"."arr__as_of_source",
                                        "t72"."seats",
                                        "t72"."seats__as_of_source",
                                        "t72"."renewal_date",
                                        "t72"."renewal_date__as_of_source",
                                        "t72"."segment_rule",
                                        "t72"."p26__rows",
                                        "t72"."p26__latest",
                                        "t72"."p26__value",
                                        "t72"."p25__rows",
                                        "t72"."p25__latest",
                                        "t59"."g_account_id",
                                        "t59"."p22__rows",
                                        "t59"."p22__latest"
                                      FROM (
                                        SELECT
                                          "t70".*
                                          EXCLUDE ("g_account_id")
                                        FROM (
                                          SELECT
                                            "t69"."account_id",
                                            "t69"."created_at",
                                            "t69"."as_of",
                                            "t69"."name",
                                            "t69"."name__as_of_source",
                                            "t69"."segment",
                                            "t69"."segment__as_of_source",
                                            "t69"."owner",
                                            "t69"."owner__as_of_source",
                                            "t69"."arr",
                                            "t69"."arr__as_of_source",
                                            "t69"."seats",
                                            "t69"."seats__as_of_source",
                                            "t69"."renewal_date",
                                            "t69"."renewal_date__as_of_source",
                                            "t69"."segment_rule",
                                            "t69"."p26__rows",
                                            "t69"."p26__latest",
                                            "t69"."p26__value",
                                            "t49"."g_account_id",
                                            "t49"."p25__rows",
                                            "t49"."p25__latest"
                                          FROM (
                                            SELECT
                                              "t67".*
                                              EXCLUDE ("g_account_id")
                                            FROM (
                                              SELECT
                                                "t66"."account_id",
                                                "t66"."created_at",
                                                "t66"."as_of",
                                                "t66"."name",
                                                "t66"."name__as_of_source",
                                                "t66"."segment",
                                                "t66"."segment__as_of_source",
                                                "t66"."owner",
                                                "t66"."owner__as_of_source",
                                                "t66"."arr",
                                                "t66"."arr__as_of_source",
                                                "t66"."seats",
                                                "t66"."seats__as_of_source",
                                                "t66"."renewal_date",
                                                "t66"."renewal_date__as_of_source",
                                                "t66"."segment_rule",
                                                "t36"."g_account_id",
                                                "t36"."p26__rows",
                                                "t36"."p26__latest",
                                                "t36"."p26__value"
                                              FROM (
                                                SELECT
                                                  "t64"."account_id",
                                                  "t64"."created_at",
                                                  "t64"."as_of",
                                                  "t64"."name",
                                                  "t64"."name__as_of_source",
                                                  "t64"."segment",
                                                  "t64"."segment__as_of_source",
                                                  "t64"."owner",
                                                  "t64"."owner__as_of_source",
                                                  "t64"."arr",
                                                  "t64"."arr__as_of_source",
                                                  "t64"."seats",
                                                  "t64"."seats__as_of_source",
                                                  "t64"."renewal_date",
                                                  "t64"."renewal_date__as_of_source",
                                                  CASE
                                                    WHEN TRUE AND COALESCE("t64"."segment" = 'enterprise', FALSE)
                                                    THEN 'enterprise'
                                                    WHEN TRUE AND COALESCE("t64"."segment" = 'SMB', FALSE)
                                                    THEN 'smb'
                                                    ELSE CAST(NULL AS TEXT)
                                                  END AS "segment_rule"
                                                FROM (
                                                  SELECT
                                                    "t63"."account_id",
                                                    "t63"."created_at",
                                                    "t63"."as_of",
                                                    CASE WHEN "t63"."chg__name" IS NOT NULL THEN "t63"."chg__name" ELSE "t63"."name" END AS "name",
                                                    CASE WHEN "t63"."chg__name" IS NOT NULL THEN 'account_changes' ELSE 'current' END AS "name__as_of_source",
                                                    CASE
                                                      WHEN "t63"."chg__segment" IS NOT NULL
                                                      THEN "t63"."chg__segment"
                                                      ELSE "t63"."segment"
                                                    END AS "segment",
                                                    CASE WHEN "t63"."chg__segment" IS NOT NULL THEN 'account_changes' ELSE 'current' END AS "segment__as_of_source",
                                                    CASE
                                                      WHEN "t63"."chg__owner" IS NOT NULL
                                                      THEN "t63"."chg__owner"
                                                      ELSE "t63"."owner"
                                                    END AS "owner",
                                                    CASE WHEN "t63"."chg__owner" IS NOT NULL THEN 'account_changes' ELSE 'current' END AS "owner__as_of_source",
                                                    CASE
                                                      WHEN "t25"."h_account_id" IS NOT NULL
                                                      THEN COALESCE("t63"."sub__arr", 0)
                                                      ELSE CASE
                                                        WHEN CASE
                                                          WHEN REGEXP_MATCHES("t63"."chg__arr", '^[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$')
                                                          THEN CAST("t63"."chg__arr" AS DOUBLE)
                                                          ELSE CAST(NULL AS DOUBLE)
                                                        END IS NOT NULL
                                                        THEN CASE
                                                          WHEN REGEXP_MATCHES("t63"."chg__arr", '^[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$')
                                                          THEN CAST("t63"."chg__arr" AS DOUBLE)
                                                          ELSE CAST(NULL AS DOUBLE)
                                                        END
                                                        ELSE "t63"."arr"
                                                      END
                                                    END AS "arr",
                                                    CASE
                                                      WHEN "t25"."h_account_id" IS NOT NULL
                                                      THEN 'subscriptions'
                                                      ELSE CASE
                                                        WHEN CASE
                                                          WHEN REGEXP_MATCHES("t63"."chg__arr", '^[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$')
                                                          THEN CAST("t63"."chg__arr" AS DOUBLE)
                                                          ELSE CAST(NULL AS DOUBLE)
                                                        END IS NOT NULL
                                                        THEN 'account_changes'
                                                        ELSE 'current'
                                                      END
                                                    END AS "arr__as_of_source",
                                                    CASE
                                                      WHEN "t25"."h_account_id" IS NOT NULL
                                                      THEN COALESCE("t63"."sub__seats", 0)
                                                      ELSE CASE
                                                        WHEN CASE
                                                          WHEN REGEXP_MATCHES("t63"."chg__seats", '^[-+]?[0-9]+$')
                                                          THEN CAST("t63"."chg__seats" AS BIGINT)
                                                          ELSE CAST(NULL AS BIGINT)
                                                        END IS NOT NULL
                                                        THEN CASE
                                                          WHEN REGEXP_MATCHES("t63"."chg__seats", '^[-+]?[0-9]+$')
                                                          THEN CAST("t63"."chg__seats" AS BIGINT)
                                                          ELSE CAST(NULL AS BIGINT)
                                                        END
                                                        ELSE "t63"."seats"
                                                      END
                                                    END AS "seats",
                                                    CASE
                                                      WHEN "t25"."h_account_id" IS NOT NULL
                                                      THEN 'subscriptions'
                                                      ELSE CASE
                                                        WHEN CASE
                                                          WHEN REGEXP_MATCHES("t63"."chg__seats", '^[-+]?[0-9]+$')
                                                          THEN CAST("t63"."chg__seats" AS BIGINT)
                                                          ELSE CAST(NULL AS BIGINT)
                                                        END IS NOT NULL
                                                        THEN 'account_changes'
                                                        ELSE 'current'
                                                      END
                                                    END AS "seats__as_of_source",
                                                    CASE
                                                      WHEN "t25"."h_account_id" IS NOT NULL
                                                      THEN "t63"."sub__renewal_date"
                                                      ELSE CASE
                                                        WHEN CASE
                                                          WHEN REGEXP_MATCHES(
                                                            "t63"."chg__renewal_date",
                                                            '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?$'
                                                          )
                                                          THEN CAST("t63"."chg__renewal_date" AS TIMESTAMP)
                                                          ELSE CAST(NULL AS TIMESTAMP)
                                                        END IS NOT NULL
                                                        THEN CASE
                                                          WHEN REGEXP_MATCHES(
                                                            "t63"."chg__renewal_date",
                                                            '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?$'
                                                          )
                                                          THEN CAST("t63"."chg__renewal_date" AS TIMESTAMP)
                                                          ELSE CAST(NULL AS TIMESTAMP)
                                                        END
                                                        ELSE "t63"."renewal_date"
                                                      END
                                                    END AS "renewal_date",
                                                    CASE
                                                      WHEN "t25"."h_account_id" IS NOT NULL
                                                      THEN 'subscriptions'
                                                      ELSE CASE
                                                        WHEN CASE
                                                          WHEN REGEXP_MATCHES(
                                                            "t63"."chg__renewal_date",
                                                            '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?$'
                                                          )
                                                          THEN CAST("t63"."chg__renewal_date" AS TIMESTAMP)
                                                          ELSE CAST(NULL AS TIMESTAMP)
                                                        END IS NOT NULL
                                                        THEN 'account_changes'
                                                        ELSE 'current'
                                                      END
                                                    END AS "renewal_date__as_of_source"
                                                  FROM (
                                                    SELECT
                                                      "t61".*
                                                      EXCLUDE ("g_account_id")
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
                                                        "t60"."as_of",
                                                        "t60"."chg__name",
                                                        "t60"."chg__segment",
                                                        "t60"."chg__owner",
                                                        "t60"."chg__arr",
                                                        "t60"."chg__seats",
                                                        "t60"."chg__renewal_date",
                                                        "t33"."g_account_id",
                                                        "t33"."sub__arr",
                                                        "t33"."sub__seats",
                                                        "t33"."sub__plan",
                                                        "t33"."sub__renewal_date"
                                                      FROM (
                                                        SELECT
                                                          "t52".*
                                                          EXCLUDE ("g_account_id")
                                                        FROM (
                                                          SELECT
                                                            "t29"."account_id",
                                                            "t29"."name",
                                                            "t29"."segment",
                                                            "t29"."owner",
                                                            "t29"."arr",
                                                            "t29"."seats",
                                                            "t29"."created_at",
                                                            "t29"."renewal_date",
                                                            "t29"."as_of",
                                                            "t34"."g_account_id",
                                                            "t34"."chg__name",
                                                            "t34"."chg__segment",
                                                            "t34"."chg__owner",
                                                            "t34"."chg__arr",
                                                            "t34"."chg__seats",
                                                            "t34"."chg__renewal_date"
                                                          FROM (
                                                            SELECT
                                                              "t10"."account_id",
                                                              "t10"."name",
                                                              "t10"."segment",
                                                              "t10"."owner",
                                                              "t10"."arr",
                                                              "t10"."seats",
                                                              "t10"."created_at",
                                                              "t10"."renewal_date",
                                                              MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) AS "as_of"
                                                            FROM "accounts" AS "t10"
                                                            WHERE
                                                              (
                                                                "t10"."created_at" IS NULL
                                                              )
                                                              OR (
                                                                "t10"."created_at" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                                                              )
                                                          ) AS "t29"
                                                          LEFT OUTER JOIN (
                                                            SELECT
                                                              "t26"."account_id" AS "g_account_id",
                                                              FIRST("t26"."value" ORDER BY "t26"."ts" DESC) FILTER(WHERE
                                                                "t26"."field" = 'name') AS "chg__name",
                                                              FIRST("t26"."value" ORDER BY "t26"."ts" DESC) FILTER(WHERE
                                                                "t26"."field" = 'segment') AS "chg__segment",
                                                              FIRST("t26"."value" ORDER BY "t26"."ts" DESC) FILTER(WHERE
                                                                "t26"."field" = 'owner') AS "chg__owner",
                                                              FIRST("t26"."value" ORDER BY "t26"."ts" DESC) FILTER(WHERE
                                                                "t26"."field" = 'arr') AS "chg__arr",
                                                              FIRST("t26"."value" ORDER BY "t26"."ts" DESC) FILTER(WHERE
                                                                "t26"."field" = 'seats') AS "chg__seats",
                                                              FIRST("t26"."value" ORDER BY "t26"."ts" DESC) FILTER(WHERE
                                                                "t26"."field" = 'renewal_date') AS "chg__renewal_date"
                                                            FROM (
                                                              SELECT
                                                                *
                                                              FROM "account_changes" AS "t11"
                                                              WHERE
                                                                "t11"."field" IN ('name', 'segment', 'owner', 'arr', 'seats', 'renewal_date')
                                                                AND "t11"."ts" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                                                            ) AS "t26"
                                                            GROUP BY
                                                              1
                                                          ) AS "t34"
                                                            ON "t29"."account_id" = "t34"."g_account_id"
                                                        ) AS "t52"
                                                      ) AS "t60"
                                                      LEFT OUTER JOIN (
                                                        SELECT
                                                          "t27"."account_id" AS "g_account_id",
                                                          SUM("t27"."arr") AS "sub__arr",
                                                          SUM("t27"."seats") AS "sub__seats",
                                                          FIRST("t27"."plan" ORDER BY "t27"."starts_at" DESC) AS "sub__plan",
                                                          MIN("t27"."ends_at") AS "sub__renewal_date"
                                                        FROM (
                                                          SELECT
                                                            *
                                                          FROM "subscriptions" AS "t9"
                                                          WHERE
                                                            "t9"."starts_at" <= MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                                                            AND (
                                                              (
                                                                "t9"."ends_at" IS NULL
                                                              )
                                                              OR (
                                                                "t9"."ends_at" > MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                                                              )
                                                            )
                                                        ) AS "t27"
                                                        GROUP BY
                                                          1
                                                      ) AS "t33"
                                                        ON "t60"."account_id" = "t33"."g_account_id"
                                                    ) AS "t61"
                                                  ) AS "t63"
                                                  LEFT OUTER JOIN (
                                                    SELECT DISTINCT
                                                      "t9"."account_id" AS "h_account_id"
                                                    FROM "subscriptions" AS "t9"
                                                  ) AS "t25"
                                                    ON "t63"."account_id" = "t25"."h_account_id"
                                                ) AS "t64"
                                              ) AS "t66"
                                              LEFT OUTER JOIN (
                                                SELECT
                                                  "t24"."account_id" AS "g_account_id",
                                                  COUNT("t24"."ts") FILTER(WHERE
                                                    TRUE AND (
                                                      "t24"."sentiment" IS NOT NULL
                                                    )) AS "p26__rows",
                                                  MAX("t24"."ts") FILTER(WHERE
                                                    TRUE AND (
                                                      "t24"."sentiment" IS NOT NULL
                                                    )) AS "p26__latest",
                                                  FIRST("t24"."sentiment" ORDER BY "t24"."ts" DESC) FILTER(WHERE
                                                    TRUE AND (
                                                      "t24"."sentiment" IS NOT NULL
                                                    )) AS "p26__value"
                                                FROM (
                                                  SELECT
                                                    *
                                                  FROM "assessments" AS "t8"
                                                  WHERE
                                                    "t8"."ts" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                                                ) AS "t24"
                                                GROUP BY
                                                  1
                                              ) AS "t36"
                                                ON "t66"."account_id" = "t36"."g_account_id"
                                            ) AS "t67"
                                          ) AS "t69"
                                          LEFT OUTER JOIN (
                                            SELECT
                                              "t23"."account_id" AS "g_account_id",
                                              COUNT("t23"."departed_at") FILTER(WHERE
                                                TRUE
                                                AND (
                                                  "t23"."departed_at" >= (
                                                    MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                                                  )
                                                )
                                                AND (
                                                  TRUE AND COALESCE("t23"."role" IN ('champion', 'sponsor'), FALSE)
                                                )) AS "p25__rows",
                                              MAX("t23"."departed_at") FILTER(WHERE
                                                TRUE
                                                AND (
                                                  "t23"."departed_at" >= (
                                                    MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                                                  )
                                                )
                                                AND (
                                                  TRUE AND COALESCE("t23"."role" IN ('champion', 'sponsor'), FALSE)
                                                )) AS "p25__latest"
                                            FROM (
                                              SELECT
                                                *
                                              FROM "contacts" AS "t7"
                                              WHERE
                                                "t7"."departed_at" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                                                AND "t7"."departed_at" >= (
                                                  MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                                                )
                                            ) AS "t23"
                                            GROUP BY
                                              1
                                          ) AS "t49"
                                            ON "t69"."account_id" = "t49"."g_account_id"
                                        ) AS "t70"
                                      ) AS "t72"
                                      LEFT OUTER JOIN (
                                        SELECT
                                          "t22"."account_id" AS "g_account_id",
                                          COUNT("t22"."started_at") FILTER(WHERE
                                            TRUE
                                            AND (
                                              TRUE
                                              AND COALESCE("t22"."role" IN ('champion', 'sponsor'), FALSE)
                                              AND (
                                                FALSE
                                                OR (
                                                  TRUE AND COALESCE("t22"."departed_at" IS NULL, FALSE)
                                                )
                                                OR (
                                                  TRUE
                                                  AND COALESCE("t22"."departed_at" >= MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0), FALSE)
                                                )
                                              )
                                            )) AS "p22__rows",
                                          MAX("t22"."started_at") FILTER(WHERE
                                            TRUE
                                            AND (
                                              TRUE
                                              AND COALESCE("t22"."role" IN ('champion', 'sponsor'), FALSE)
                                              AND (
                                                FALSE
                                                OR (
                                                  TRUE AND COALESCE("t22"."departed_at" IS NULL, FALSE)
                                                )
                                                OR (
                                                  TRUE
                                                  AND COALESCE("t22"."departed_at" >= MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0), FALSE)
                                                )
                                              )
                                            )) AS "p22__latest"
                                        FROM (
                                          SELECT
                                            *
                                          FROM "contacts" AS "t7"
                                          WHERE
                                            "t7"."started_at" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                                        ) AS "t22"
                                        GROUP BY
                                          1
                                      ) AS "t59"
                                        ON "t72"."account_id" = "t59"."g_account_id"
                                    ) AS "t73"
                                  ) AS "t75"
                                  LEFT OUTER JOIN (
                                    SELECT
                                      "t21"."account_id" AS "g_account_id",
                                      COUNT("t21"."ts") FILTER(WHERE
                                        TRUE
                                        AND (
                                          "t21"."ts" >= (
                                            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '120' DAY
                                          )
                                        )
                                        AND (
                                          TRUE AND COALESCE("t21"."kind" = 'qbr', FALSE)
                                        )) AS "p21__rows",
                                      MAX("t21"."ts") FILTER(WHERE
                                        TRUE
                                        AND (
                                          "t21"."ts" >= (
                                            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '120' DAY
                                          )
                                        )
                                        AND (
                                          TRUE AND COALESCE("t21"."kind" = 'qbr', FALSE)
                                        )) AS "p21__latest",
                                      COUNT("t21"."ts") FILTER(WHERE
                                        TRUE
                                        AND (
                                          "t21"."ts" >= (
                                            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                                          )
                                        )
                                        AND (
                                          TRUE AND COALESCE("t21"."direction" = 'inbound', FALSE)
                                        )) AS "p23__rows",
                                      MAX("t21"."ts") FILTER(WHERE
                                        TRUE
                                        AND (
                                          "t21"."ts" >= (
                                            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                                          )
                                        )
                                        AND (
                                          TRUE AND COALESCE("t21"."direction" = 'inbound', FALSE)
                                        )) AS "p23__latest"
                                    FROM (
                                      SELECT
                                        *
                                      FROM "interactions" AS "t6"
                                      WHERE
                                        "t6"."ts" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                                        AND "t6"."ts" >= (
                                          MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '120' DAY
                                        )
                                    ) AS "t21"
                                    GROUP BY
                                      1
                                  ) AS "t48"
                                    ON "t75"."account_id" = "t48"."g_account_id"
                                ) AS "t76"
                              ) AS "t78"
                              LEFT OUTER JOIN (
                                SELECT
                                  "t20"."account_id" AS "g_account_id",
                                  COUNT("t20"."due_at") FILTER(WHERE
                                    TRUE
                                    AND (
                                      "t20"."due_at" >= (
                                        MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                                      )
                                    )
                                    AND (
                                      TRUE
                                      AND (
                                        FALSE
                                        OR (
                                          TRUE AND COALESCE("t20"."status" = 'failed', FALSE)
                                        )
                                        OR (
                                          TRUE AND COALESCE("t20"."paid_at" > "t20"."due_at", FALSE)
                                        )
                                      )
                                    )) AS "p17__rows",
                                  MAX("t20"."due_at") FILTER(WHERE
                                    TRUE
                                    AND (
                                      "t20"."due_at" >= (
                                        MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                                      )
                                    )
                                    AND (
                                      TRUE
                                      AND (
                                        FALSE
                                        OR (
                                          TRUE AND COALESCE("t20"."status" = 'failed', FALSE)
                                        )
                                        OR (
                                          TRUE AND COALESCE("t20"."paid_at" > "t20"."due_at", FALSE)
                                        )
                                      )
                                    )) AS "p17__latest"
                                FROM (
                                  SELECT
                                    *
                                  FROM "invoices" AS "t5"
                                  WHERE
                                    "t5"."due_at" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                                    AND "t5"."due_at" >= (
                                      MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                                    )
                                ) AS "t20"
                                GROUP BY
                                  1
                              ) AS "t58"
                                ON "t78"."account_id" = "t58"."g_account_id"
                            ) AS "t79"
                          ) AS "t81"
                          LEFT OUTER JOIN (
                            SELECT
                              "t19"."account_id" AS "g_account_id",
                              COUNT("t19"."issued_at") FILTER(WHERE
                                TRUE
                                AND (
                                  "t19"."issued_at" >= (
                                    MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
                                  )
                                )
                                AND (
                                  TRUE AND COALESCE("t19"."status" = 'failed', FALSE)
                                )) AS "p18__rows",
                              MAX("t19"."issued_at") FILTER(WHERE
                                TRUE
                                AND (
                                  "t19"."issued_at" >= (
                                    MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
                                  )
                                )
                                AND (
                                  TRUE AND COALESCE("t19"."status" = 'failed', FALSE)
                                )) AS "p18__latest"
                            FROM (
                              SELECT
                                *
                              FROM "invoices" AS "t5"
                              WHERE
                                "t5"."issued_at" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                                AND "t5"."issued_at" >= (
                                  MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
                                )
                            ) AS "t19"
                            GROUP BY
                              1
                          ) AS "t47"
                            ON "t81"."account_id" = "t47"."g_account_id"
                        ) AS "t82"
                      ) AS "t84"
                      LEFT OUTER JOIN (
                        SELECT
                          "t18"."account_id" AS "g_account_id",
                          COUNT("t18"."due_at") FILTER(WHERE
                            TRUE
                            AND (
                              "t18"."due_at" >= (
                                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                              )
                            )
                            AND (
                              TRUE
                              AND (
                                FALSE
                                OR (
                                  TRUE AND COALESCE("t18"."completed_at" IS NULL, FALSE)
                                )
                                OR (
                                  TRUE AND COALESCE("t18"."completed_at" > "t18"."due_at", FALSE)
                                )
                              )
                            )) AS "p24__rows",
                          MAX("t18"."due_at") FILTER(WHERE
                            TRUE
                            AND (
                              "t18"."due_at" >= (
                                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                              )
                            )
                            AND (
                              TRUE
                              AND (
                                FALSE
                                OR (
                                  TRUE AND COALESCE("t18"."completed_at" IS NULL, FALSE)
                                )
                                OR (
                                  TRUE AND COALESCE("t18"."completed_at" > "t18"."due_at", FALSE)
                                )
                              )
                            )) AS "p24__latest"
                        FROM (
                          SELECT
                            *
                          FROM "milestones" AS "t4"
                          WHERE
                            "t4"."due_at" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                            AND "t4"."due_at" >= (
                              MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                            )
                        ) AS "t18"
                        GROUP BY
                          1
                      ) AS "t57"
                        ON "t84"."account_id" = "t57"."g_account_id"
                    ) AS "t85"
                  ) AS "t87"
                  LEFT OUTER JOIN (
                    SELECT
                      "t17"."account_id" AS "g_account_id",
                      COUNT("t17"."ts") FILTER(WHERE
                        TRUE
                        AND (
                          "t17"."ts" >= (
                            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '365' DAY
                          )
                        )
                        AND (
                          TRUE AND COALESCE("t17"."kind" = 'expanded', FALSE)
                        )) AS "p20__rows",
                      MAX("t17"."ts") FILTER(WHERE
                        TRUE
                        AND (
                          "t17"."ts" >= (
                            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '365' DAY
                          )
                        )
                        AND (
                          TRUE AND COALESCE("t17"."kind" = 'expanded', FALSE)
                        )) AS "p20__latest",
                      COUNT("t17"."ts") FILTER(WHERE
                        TRUE AND (
                          "t17"."kind" IS NOT NULL
                        )) AS "p27__rows",
                      MAX("t17"."ts") FILTER(WHERE
                        TRUE AND (
                          "t17"."kind" IS NOT NULL
                        )) AS "p27__latest",
                      FIRST("t17"."kind" ORDER BY "t17"."ts" DESC) FILTER(WHERE
                        TRUE AND (
                          "t17"."kind" IS NOT NULL
                        )) AS "p27__value"
                    FROM (
                      SELECT
                        *
                      FROM "outcomes" AS "t3"
                      WHERE
                        "t3"."ts" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                    ) AS "t17"
                    GROUP BY
                      1
                  ) AS "t46"
                    ON "t87"."account_id" = "t46"."g_account_id"
                ) AS "t88"
              ) AS "t90"
              LEFT OUTER JOIN (
                SELECT
                  "t16"."account_id" AS "g_account_id",
                  COUNT("t16"."ts") FILTER(WHERE
                    TRUE
                    AND (
                      "t16"."ts" >= (
                        MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                      )
                    )
                    AND (
                      TRUE AND COALESCE("t16"."kind" = 'nps', FALSE)
                    )
                    AND (
                      "t16"."score" IS NOT NULL
                    )) AS "p8__rows",
                  MAX("t16"."ts") FILTER(WHERE
                    TRUE
                    AND (
                      "t16"."ts" >= (
                        MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                      )
                    )
                    AND (
                      TRUE AND COALESCE("t16"."kind" = 'nps', FALSE)
                    )
                    AND (
                      "t16"."score" IS NOT NULL
                    )) AS "p8__latest",
                  AVG("t16"."score") FILTER(WHERE
                    TRUE
                    AND (
                      "t16"."ts" >= (
                        MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                      )
                    )
                    AND (
                      TRUE AND COALESCE("t16"."kind" = 'nps', FALSE)
                    )
                    AND (
                      "t16"."score" IS NOT NULL
                    )) AS "p8__value",
                  COUNT("t16"."ts") FILTER(WHERE
                    TRUE
                    AND (
                      "t16"."ts" >= (
                        MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                      )
                    )
                    AND (
                      "t16"."comment_sentiment" IS NOT NULL
                    )) AS "p9__rows",
                  MAX("t16"."ts") FILTER(WHERE
                    TRUE
                    AND (
                      "t16"."ts" >= (
                        MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                      )
                    )
                    AND (
                      "t16"."comment_sentiment" IS NOT NULL
                    )) AS "p9__latest",
                  AVG("t16"."comment_sentiment") FILTER(WHERE
                    TRUE
                    AND (
                      "t16"."ts" >= (
                        MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                      )
                    )
                    AND (
                      "t16"."comment_sentiment" IS NOT NULL
                    )) AS "p9__value"
                FROM (
                  SELECT
                    *
                  FROM "surveys" AS "t2"
                  WHERE
                    "t2"."ts" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                    AND "t2"."ts" >= (
                      MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '180' DAY
                    )
                ) AS "t16"
                GROUP BY
                  1
              ) AS "t51"
                ON "t90"."account_id" = "t51"."g_account_id"
            ) AS "t91"
          ) AS "t93"
          LEFT OUTER JOIN (
            SELECT
              "t15"."account_id" AS "g_account_id",
              COUNT("t15"."closed_at") FILTER(WHERE
                TRUE
                AND (
                  "t15"."closed_at" >= (
                    MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                  )
                )
                AND (
                  "t15"."csat" IS NOT NULL
                )) AS "p0__rows",
              MAX("t15"."closed_at") FILTER(WHERE
                TRUE
                AND (
                  "t15"."closed_at" >= (
                    MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                  )
                )
                AND (
                  "t15"."csat" IS NOT NULL
                )) AS "p0__latest",
              AVG("t15"."csat") FILTER(WHERE
                TRUE
                AND (
                  "t15"."closed_at" >= (
                    MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                  )
                )
                AND (
                  "t15"."csat" IS NOT NULL
                )) AS "p0__value",
              COUNT("t15"."closed_at") FILTER(WHERE
                TRUE
                AND (
                  "t15"."closed_at" >= (
                    MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                  )
                )
                AND (
                  "t15"."ces" IS NOT NULL
                )) AS "p1__rows",
              MAX("t15"."closed_at") FILTER(WHERE
                TRUE
                AND (
                  "t15"."closed_at" >= (
                    MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                  )
                )
                AND (
                  "t15"."ces" IS NOT NULL
                )) AS "p1__latest",
              AVG("t15"."ces") FILTER(WHERE
                TRUE
                AND (
                  "t15"."closed_at" >= (
                    MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                  )
                )
                AND (
                  "t15"."ces" IS NOT NULL
                )) AS "p1__value"
            FROM (
              SELECT
                *
              FROM "tickets" AS "t1"
              WHERE
                "t1"."closed_at" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
                AND "t1"."closed_at" >= (
                  MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
                )
            ) AS "t15"
            GROUP BY
              1
          ) AS "t38"
            ON "t93"."account_id" = "t38"."g_account_id"
        ) AS "t94"
      ) AS "t96"
      LEFT OUTER JOIN (
        SELECT
          "t14"."account_id" AS "g_account_id",
          COUNT("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
              )
            )) AS "p2__rows",
          MAX("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
              )
            )) AS "p2__latest",
          COUNT("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '60' DAY
              )
            )
            AND (
              "t14"."opened_at" < (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
              )
            )) AS "p3__rows",
          MAX("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '60' DAY
              )
            )
            AND (
              "t14"."opened_at" < (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
              )
            )) AS "p3__latest",
          COUNT("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
              )
            )
            AND (
              TRUE AND COALESCE("t14"."reopened" = TRUE, FALSE)
            )) AS "p4__rows",
          MAX("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
              )
            )
            AND (
              TRUE AND COALESCE("t14"."reopened" = TRUE, FALSE)
            )) AS "p4__latest",
          COUNT("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
              )
            )) AS "p5__rows",
          MAX("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
              )
            )) AS "p5__latest",
          COUNT("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
              )
            )
            AND (
              TRUE AND COALESCE("t14"."escalated" = TRUE, FALSE)
            )) AS "p6__rows",
          MAX("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
              )
            )
            AND (
              TRUE AND COALESCE("t14"."escalated" = TRUE, FALSE)
            )) AS "p6__latest",
          COUNT("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
              )
            )
            AND (
              "t14"."sla_met" IS NOT NULL
            )) AS "p7__rows",
          MAX("t14"."opened_at") FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
              )
            )
            AND (
              "t14"."sla_met" IS NOT NULL
            )) AS "p7__latest",
          AVG(CASE WHEN "t14"."sla_met" THEN 1.0 ELSE 0.0 END) FILTER(WHERE
            TRUE
            AND (
              "t14"."opened_at" >= (
                MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
              )
            )
            AND (
              "t14"."sla_met" IS NOT NULL
            )) AS "p7__value"
        FROM (
          SELECT
            *
          FROM "tickets" AS "t1"
          WHERE
            "t1"."opened_at" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
            AND "t1"."opened_at" >= (
              MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
            )
        ) AS "t14"
        GROUP BY
          1
      ) AS "t44"
        ON "t96"."account_id" = "t44"."g_account_id"
    ) AS "t97"
  ) AS "t99"
  LEFT OUTER JOIN (
    SELECT
      "t13"."account_id" AS "g_account_id",
      COUNT("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          TRUE AND COALESCE("t13"."event" = 'login', FALSE)
        )) AS "p10__rows",
      MAX("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          TRUE AND COALESCE("t13"."event" = 'login', FALSE)
        )) AS "p10__latest",
      COUNT("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          TRUE AND COALESCE("t13"."event" <> 'login', FALSE)
        )
        AND (
          "t13"."event" IS NOT NULL
        )) AS "p11__rows",
      MAX("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          TRUE AND COALESCE("t13"."event" <> 'login', FALSE)
        )
        AND (
          "t13"."event" IS NOT NULL
        )) AS "p11__latest",
      COUNT(DISTINCT "t13"."event") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          TRUE AND COALESCE("t13"."event" <> 'login', FALSE)
        )
        AND (
          "t13"."event" IS NOT NULL
        )) AS "p11__value",
      COUNT("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
          )
        )
        AND (
          TRUE AND COALESCE("t13"."event" = 'login', FALSE)
        )) AS "p12__rows",
      MAX("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
          )
        )
        AND (
          TRUE AND COALESCE("t13"."event" = 'login', FALSE)
        )) AS "p12__latest",
      COUNT("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )) AS "p13__rows",
      MAX("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )) AS "p13__latest",
      COUNT("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '60' DAY
          )
        )
        AND (
          "t13"."ts" < (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )) AS "p14__rows",
      MAX("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '60' DAY
          )
        )
        AND (
          "t13"."ts" < (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )) AS "p14__latest",
      COUNT("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
          )
        )) AS "p15__rows",
      MAX("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
          )
        )) AS "p15__latest",
      COUNT("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          "t13"."user_id" IS NOT NULL
        )) AS "p16__rows",
      MAX("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          "t13"."user_id" IS NOT NULL
        )) AS "p16__latest",
      COUNT(DISTINCT "t13"."user_id") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          "t13"."user_id" IS NOT NULL
        )) AS "p16__value",
      COUNT("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          "t13"."quantity" IS NOT NULL
        )) AS "p19__rows",
      MAX("t13"."ts") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          "t13"."quantity" IS NOT NULL
        )) AS "p19__latest",
      SUM("t13"."quantity") FILTER(WHERE
        TRUE
        AND (
          "t13"."ts" >= (
            MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '30' DAY
          )
        )
        AND (
          "t13"."quantity" IS NOT NULL
        )) AS "p19__value"
    FROM (
      SELECT
        *
      FROM "usage_events" AS "t0"
      WHERE
        "t0"."ts" < MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0)
        AND "t0"."ts" >= (
          MAKE_TIMESTAMP(2025, 6, 1, 0, 0, 0.0) - INTERVAL '90' DAY
        )
    ) AS "t13"
    GROUP BY
      1
  ) AS "t50"
    ON "t99"."account_id" = "t50"."g_account_id"
) AS "t100"
