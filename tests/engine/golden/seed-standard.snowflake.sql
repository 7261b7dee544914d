SELECT
  "t81".*
  EXCLUDE ("g_account_id")
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
      "t78".*
      EXCLUDE ("g_account_id")
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
          "t75".*
          EXCLUDE ("g_account_id")
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
              "t72".*
              EXCLUDE ("g_account_id")
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
                  "t69".*
                  EXCLUDE ("g_account_id")
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
                      "t66".*
                      EXCLUDE ("g_account_id")
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
                          "t63".*
                          EXCLUDE ("g_account_id")
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
                              "t60".*
                              EXCLUDE ("g_account_id")
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
                                  "t57".*
                                  EXCLUDE ("g_account_id")
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
                                      "t54".*
                                      EXCLUDE ("g_account_id")
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
                                          "t51".*
                                          EXCLUDE ("g_account_id")
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
                                              "t45".*
                                              EXCLUDE ("g_account_id")
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
                                                  TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0) AS "as_of"
                                                FROM "accounts" AS "t8"
                                                WHERE
                                                  (
                                                    "t8"."created_at" IS NULL
                                                  )
                                                  OR (
                                                    "t8"."created_at" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
                                                  )
                                              ) AS "t23"
                                              LEFT OUTER JOIN (
                                                SELECT
                                                  "t21"."account_id" AS "g_account_id",
                                                  COUNT(IFF(TRUE AND (
                                                    "t21"."sentiment" IS NOT NULL
                                                  ), "t21"."ts", NULL)) AS "p26__rows",
                                                  MAX(IFF(TRUE AND (
                                                    "t21"."sentiment" IS NOT NULL
                                                  ), "t21"."ts", NULL)) AS "p26__latest",
                                                  MAX_BY(
                                                    IFF(TRUE AND (
                                                      "t21"."sentiment" IS NOT NULL
                                                    ), "t21"."sentiment", NULL),
                                                    IFF(TRUE AND (
                                                      "t21"."sentiment" IS NOT NULL
                                                    ), "t21"."ts", NULL)
                                                  ) AS "p26__value"
                                                FROM (
                                                  SELECT
                                                    *
                                                  FROM "assessments" AS "t9"
                                                  WHERE
                                                    "t9"."ts" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
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
                                              COUNT(
                                                IFF(
                                                  TRUE
                                                  AND (
                                                    "t20"."departed_at" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                                                  )
                                                  AND (
                                                    TRUE AND COALESCE("t20"."role" IN ('champion', 'sponsor'), FALSE)
                                                  ),
                                                  "t20"."departed_at",
                                                  NULL
                                                )
                                              ) AS "p25__rows",
                                              MAX(
                                                IFF(
                                                  TRUE
                                                  AND (
                                                    "t20"."departed_at" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                                                  )
                                                  AND (
                                                    TRUE AND COALESCE("t20"."role" IN ('champion', 'sponsor'), FALSE)
                                                  ),
                                                  "t20"."departed_at",
                                                  NULL
                                                )
                                              ) AS "p25__latest"
                                            FROM (
                                              SELECT
                                                *
                                              FROM "contacts" AS "t7"
                                              WHERE
                                                "t7"."departed_at" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
                                                AND "t7"."departed_at" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
                                          COUNT(
                                            IFF(
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
                                                    AND COALESCE("t19"."departed_at" >= TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0), FALSE)
                                                  )
                                                )
                                              ),
                                              "t19"."started_at",
                                              NULL
                                            )
                                          ) AS "p22__rows",
                                          MAX(
                                            IFF(
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
                                                    AND COALESCE("t19"."departed_at" >= TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0), FALSE)
                                                  )
                                                )
                                              ),
                                              "t19"."started_at",
                                              NULL
                                            )
                                          ) AS "p22__latest"
                                        FROM (
                                          SELECT
                                            *
                                          FROM "contacts" AS "t7"
                                          WHERE
                                            "t7"."started_at" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
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
                                      COUNT(
                                        IFF(
                                          TRUE
                                          AND (
                                            "t18"."ts" >= DATEADD(DAY, -'120', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                                          )
                                          AND (
                                            TRUE AND COALESCE("t18"."kind" = 'qbr', FALSE)
                                          ),
                                          "t18"."ts",
                                          NULL
                                        )
                                      ) AS "p21__rows",
                                      MAX(
                                        IFF(
                                          TRUE
                                          AND (
                                            "t18"."ts" >= DATEADD(DAY, -'120', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                                          )
                                          AND (
                                            TRUE AND COALESCE("t18"."kind" = 'qbr', FALSE)
                                          ),
                                          "t18"."ts",
                                          NULL
                                        )
                                      ) AS "p21__latest",
                                      COUNT(
                                        IFF(
                                          TRUE
                                          AND (
                                            "t18"."ts" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                                          )
                                          AND (
                                            TRUE AND COALESCE("t18"."direction" = 'inbound', FALSE)
                                          ),
                                          "t18"."ts",
                                          NULL
                                        )
                                      ) AS "p23__rows",
                                      MAX(
                                        IFF(
                                          TRUE
                                          AND (
                                            "t18"."ts" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                                          )
                                          AND (
                                            TRUE AND COALESCE("t18"."direction" = 'inbound', FALSE)
                                          ),
                                          "t18"."ts",
                                          NULL
                                        )
                                      ) AS "p23__latest"
                                    FROM (
                                      SELECT
                                        *
                                      FROM "interactions" AS "t6"
                                      WHERE
                                        "t6"."ts" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
                                        AND "t6"."ts" >= DATEADD(DAY, -'120', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
                                  COUNT(
                                    IFF(
                                      TRUE
                                      AND (
                                        "t17"."due_at" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
                                      ),
                                      "t17"."due_at",
                                      NULL
                                    )
                                  ) AS "p17__rows",
                                  MAX(
                                    IFF(
                                      TRUE
                                      AND (
                                        "t17"."due_at" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
                                      ),
                                      "t17"."due_at",
                                      NULL
                                    )
                                  ) AS "p17__latest"
                                FROM (
                                  SELECT
                                    *
                                  FROM "invoices" AS "t5"
                                  WHERE
                                    "t5"."due_at" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
                                    AND "t5"."due_at" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
                              COUNT(
                                IFF(
                                  TRUE
                                  AND (
                                    "t16"."issued_at" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                                  )
                                  AND (
                                    TRUE AND COALESCE("t16"."status" = 'failed', FALSE)
                                  ),
                                  "t16"."issued_at",
                                  NULL
                                )
                              ) AS "p18__rows",
                              MAX(
                                IFF(
                                  TRUE
                                  AND (
                                    "t16"."issued_at" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                                  )
                                  AND (
                                    TRUE AND COALESCE("t16"."status" = 'failed', FALSE)
                                  ),
                                  "t16"."issued_at",
                                  NULL
                                )
                              ) AS "p18__latest"
                            FROM (
                              SELECT
                                *
                              FROM "invoices" AS "t5"
                              WHERE
                                "t5"."issued_at" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
                                AND "t5"."issued_at" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
                          COUNT(
                            IFF(
                              TRUE
                              AND (
                                "t15"."due_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
                              ),
                              "t15"."due_at",
                              NULL
                            )
                          ) AS "p24__rows",
                          MAX(
                            IFF(
                              TRUE
                              AND (
                                "t15"."due_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
                              ),
                              "t15"."due_at",
                              NULL
                            )
                          ) AS "p24__latest"
                        FROM (
                          SELECT
                            *
                          FROM "milestones" AS "t4"
                          WHERE
                            "t4"."due_at" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
                            AND "t4"."due_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
                      COUNT(
                        IFF(
                          TRUE
                          AND (
                            "t14"."ts" >= DATEADD(DAY, -'365', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                          )
                          AND (
                            TRUE AND COALESCE("t14"."kind" = 'expanded', FALSE)
                          ),
                          "t14"."ts",
                          NULL
                        )
                      ) AS "p20__rows",
                      MAX(
                        IFF(
                          TRUE
                          AND (
                            "t14"."ts" >= DATEADD(DAY, -'365', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                          )
                          AND (
                            TRUE AND COALESCE("t14"."kind" = 'expanded', FALSE)
                          ),
                          "t14"."ts",
                          NULL
                        )
                      ) AS "p20__latest",
                      COUNT(IFF(TRUE AND (
                        "t14"."kind" IS NOT NULL
                      ), "t14"."ts", NULL)) AS "p27__rows",
                      MAX(IFF(TRUE AND (
                        "t14"."kind" IS NOT NULL
                      ), "t14"."ts", NULL)) AS "p27__latest",
                      MAX_BY(
                        IFF(TRUE AND (
                          "t14"."kind" IS NOT NULL
                        ), "t14"."kind", NULL),
                        IFF(TRUE AND (
                          "t14"."kind" IS NOT NULL
                        ), "t14"."ts", NULL)
                      ) AS "p27__value"
                    FROM (
                      SELECT
                        *
                      FROM "outcomes" AS "t3"
                      WHERE
                        "t3"."ts" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
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
                  COUNT(
                    IFF(
                      TRUE
                      AND (
                        "t13"."ts" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                      )
                      AND (
                        TRUE AND COALESCE("t13"."kind" = 'nps', FALSE)
                      )
                      AND (
                        "t13"."score" IS NOT NULL
                      ),
                      "t13"."ts",
                      NULL
                    )
                  ) AS "p8__rows",
                  MAX(
                    IFF(
                      TRUE
                      AND (
                        "t13"."ts" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                      )
                      AND (
                        TRUE AND COALESCE("t13"."kind" = 'nps', FALSE)
                      )
                      AND (
                        "t13"."score" IS NOT NULL
                      ),
                      "t13"."ts",
                      NULL
                    )
                  ) AS "p8__latest",
                  AVG(
                    IFF(
                      TRUE
                      AND (
                        "t13"."ts" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                      )
                      AND (
                        TRUE AND COALESCE("t13"."kind" = 'nps', FALSE)
                      )
                      AND (
                        "t13"."score" IS NOT NULL
                      ),
                      "t13"."score",
                      NULL
                    )
                  ) AS "p8__value",
                  COUNT(
                    IFF(
                      TRUE
                      AND (
                        "t13"."ts" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                      )
                      AND (
                        "t13"."comment_sentiment" IS NOT NULL
                      ),
                      "t13"."ts",
                      NULL
                    )
                  ) AS "p9__rows",
                  MAX(
                    IFF(
                      TRUE
                      AND (
                        "t13"."ts" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                      )
                      AND (
                        "t13"."comment_sentiment" IS NOT NULL
                      ),
                      "t13"."ts",
                      NULL
                    )
                  ) AS "p9__latest",
                  AVG(
                    IFF(
                      TRUE
                      AND (
                        "t13"."ts" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                      )
                      AND (
                        "t13"."comment_sentiment" IS NOT NULL
                      ),
                      "t13"."comment_sentiment",
                      NULL
                    )
                  ) AS "p9__value"
                FROM (
                  SELECT
                    *
                  FROM "surveys" AS "t2"
                  WHERE
                    "t2"."ts" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
                    AND "t2"."ts" >= DATEADD(DAY, -'180', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
              COUNT(
                IFF(
                  TRUE
                  AND (
                    "t12"."closed_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                  )
                  AND (
                    "t12"."csat" IS NOT NULL
                  ),
                  "t12"."closed_at",
                  NULL
                )
              ) AS "p0__rows",
              MAX(
                IFF(
                  TRUE
                  AND (
                    "t12"."closed_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                  )
                  AND (
                    "t12"."csat" IS NOT NULL
                  ),
                  "t12"."closed_at",
                  NULL
                )
              ) AS "p0__latest",
              AVG(
                IFF(
                  TRUE
                  AND (
                    "t12"."closed_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                  )
                  AND (
                    "t12"."csat" IS NOT NULL
                  ),
                  "t12"."csat",
                  NULL
                )
              ) AS "p0__value",
              COUNT(
                IFF(
                  TRUE
                  AND (
                    "t12"."closed_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                  )
                  AND (
                    "t12"."ces" IS NOT NULL
                  ),
                  "t12"."closed_at",
                  NULL
                )
              ) AS "p1__rows",
              MAX(
                IFF(
                  TRUE
                  AND (
                    "t12"."closed_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                  )
                  AND (
                    "t12"."ces" IS NOT NULL
                  ),
                  "t12"."closed_at",
                  NULL
                )
              ) AS "p1__latest",
              AVG(
                IFF(
                  TRUE
                  AND (
                    "t12"."closed_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
                  )
                  AND (
                    "t12"."ces" IS NOT NULL
                  ),
                  "t12"."ces",
                  NULL
                )
              ) AS "p1__value"
            FROM (
              SELECT
                *
              FROM "tickets" AS "t1"
              WHERE
                "t1"."closed_at" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
                AND "t1"."closed_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
          COUNT(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p2__rows",
          MAX(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p2__latest",
          COUNT(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'60', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              )
              AND (
                "t11"."opened_at" < DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p3__rows",
          MAX(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'60', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              )
              AND (
                "t11"."opened_at" < DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p3__latest",
          COUNT(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              )
              AND (
                TRUE AND COALESCE("t11"."reopened" = TRUE, FALSE)
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p4__rows",
          MAX(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              )
              AND (
                TRUE AND COALESCE("t11"."reopened" = TRUE, FALSE)
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p4__latest",
          COUNT(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p5__rows",
          MAX(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p5__latest",
          COUNT(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              )
              AND (
                TRUE AND COALESCE("t11"."escalated" = TRUE, FALSE)
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p6__rows",
          MAX(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              )
              AND (
                TRUE AND COALESCE("t11"."escalated" = TRUE, FALSE)
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p6__latest",
          COUNT(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              )
              AND (
                "t11"."sla_met" IS NOT NULL
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p7__rows",
          MAX(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              )
              AND (
                "t11"."sla_met" IS NOT NULL
              ),
              "t11"."opened_at",
              NULL
            )
          ) AS "p7__latest",
          AVG(
            IFF(
              TRUE
              AND (
                "t11"."opened_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
              )
              AND (
                "t11"."sla_met" IS NOT NULL
              ),
              IFF("t11"."sla_met", 1.0, 0.0),
              NULL
            )
          ) AS "p7__value"
        FROM (
          SELECT
            *
          FROM "tickets" AS "t1"
          WHERE
            "t1"."opened_at" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
            AND "t1"."opened_at" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
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
      COUNT(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            TRUE AND COALESCE("t10"."event" = 'login', FALSE)
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p10__rows",
      MAX(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            TRUE AND COALESCE("t10"."event" = 'login', FALSE)
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p10__latest",
      COUNT(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            TRUE AND COALESCE("t10"."event" <> 'login', FALSE)
          )
          AND (
            "t10"."event" IS NOT NULL
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p11__rows",
      MAX(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            TRUE AND COALESCE("t10"."event" <> 'login', FALSE)
          )
          AND (
            "t10"."event" IS NOT NULL
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p11__latest",
      COUNT(
        DISTINCT IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            TRUE AND COALESCE("t10"."event" <> 'login', FALSE)
          )
          AND (
            "t10"."event" IS NOT NULL
          ),
          "t10"."event",
          NULL
        )
      ) AS "p11__value",
      COUNT(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            TRUE AND COALESCE("t10"."event" = 'login', FALSE)
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p12__rows",
      MAX(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            TRUE AND COALESCE("t10"."event" = 'login', FALSE)
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p12__latest",
      COUNT(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p13__rows",
      MAX(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p13__latest",
      COUNT(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'60', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            "t10"."ts" < DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p14__rows",
      MAX(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'60', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            "t10"."ts" < DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p14__latest",
      COUNT(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p15__rows",
      MAX(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p15__latest",
      COUNT(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            "t10"."user_id" IS NOT NULL
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p16__rows",
      MAX(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            "t10"."user_id" IS NOT NULL
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p16__latest",
      COUNT(
        DISTINCT IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            "t10"."user_id" IS NOT NULL
          ),
          "t10"."user_id",
          NULL
        )
      ) AS "p16__value",
      COUNT(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            "t10"."quantity" IS NOT NULL
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p19__rows",
      MAX(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            "t10"."quantity" IS NOT NULL
          ),
          "t10"."ts",
          NULL
        )
      ) AS "p19__latest",
      SUM(
        IFF(
          TRUE
          AND (
            "t10"."ts" >= DATEADD(DAY, -'30', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
          )
          AND (
            "t10"."quantity" IS NOT NULL
          ),
          "t10"."quantity",
          NULL
        )
      ) AS "p19__value"
    FROM (
      SELECT
        *
      FROM "usage_events" AS "t0"
      WHERE
        "t0"."ts" < TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)
        AND "t0"."ts" >= DATEADD(DAY, -'90', TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0))
    ) AS "t10"
    GROUP BY
      1
  ) AS "t40"
    ON "t80"."account_id" = "t40"."g_account_id"
) AS "t81"
