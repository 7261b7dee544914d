SELECT
  `t100`.`account_id`,
  `t100`.`created_at`,
  `t100`.`as_of`,
  `t100`.`name`,
  `t100`.`name__as_of_source`,
  `t100`.`segment`,
  `t100`.`segment__as_of_source`,
  `t100`.`owner`,
  `t100`.`owner__as_of_source`,
  `t100`.`arr`,
  `t100`.`arr__as_of_source`,
  `t100`.`seats`,
  `t100`.`seats__as_of_source`,
  `t100`.`renewal_date`,
  `t100`.`renewal_date__as_of_source`,
  `t100`.`segment_rule`,
  `t100`.`p26__rows`,
  `t100`.`p26__latest`,
  `t100`.`p26__value`,
  `t100`.`p25__rows`,
  `t100`.`p25__latest`,
  `t100`.`p22__rows`,
  `t100`.`p22__latest`,
  `t100`.`p21__rows`,
  `t100`.`p21__latest`,
  `t100`.`p23__rows`,
  `t100`.`p23__latest`,
  `t100`.`p17__rows`,
  `t100`.`p17__latest`,
  `t100`.`p18__rows`,
  `t100`.`p18__latest`,
  `t100`.`p24__rows`,
  `t100`.`p24__latest`,
  `t100`.`p20__rows`,
  `t100`.`p20__latest`,
  `t100`.`p27__rows`,
  `t100`.`p27__latest`,
  `t100`.`p27__value`,
  `t100`.`p8__rows`,
  `t100`.`p8__latest`,
  `t100`.`p8__value`,
  `t100`.`p9__rows`,
  `t100`.`p9__latest`,
  `t100`.`p9__value`,
  `t100`.`p0__rows`,
  `t100`.`p0__latest`,
  `t100`.`p0__value`,
  `t100`.`p1__rows`,
  `t100`.`p1__latest`,
  `t100`.`p1__value`,
  `t100`.`p2__rows`,
  `t100`.`p2__latest`,
  `t100`.`p3__rows`,
  `t100`.`p3__latest`,
  `t100`.`p4__rows`,
  `t100`.`p4__latest`,
  `t100`.`p5__rows`,
  `t100`.`p5__latest`,
  `t100`.`p6__rows`,
  `t100`.`p6__latest`,
  `t100`.`p7__rows`,
  `t100`.`p7__latest`,
  `t100`.`p7__value`,
  `t100`.`p10__rows`,
  `t100`.`p10__latest`,
  `t100`.`p11__rows`,
  `t100`.`p11__latest`,
  `t100`.`p11__value`,
  `t100`.`p12__rows`,
  `t100`.`p12__latest`,
  `t100`.`p13__rows`,
  `t100`.`p13__latest`,
  `t100`.`p14__rows`,
  `t100`.`p14__latest`,
  `t100`.`p15__rows`,
  `t100`.`p15__latest`,
  `t100`.`p16__rows`,
  `t100`.`p16__latest`,
  `t100`.`p16__value`,
  `t100`.`p19__rows`,
  `t100`.`p19__latest`,
  `t100`.`p19__value`
FROM (
  SELECT
    `t99`.`account_id`,
    `t99`.`created_at`,
    `t99`.`as_of`,
    `t99`.`name`,
    `t99`.`name__as_of_source`,
    `t99`.`segment`,
    `t99`.`segment__as_of_source`,
    `t99`.`owner`,
    `t99`.`owner__as_of_source`,
    `t99`.`arr`,
    `t99`.`arr__as_of_source`,
    `t99`.`seats`,
    `t99`.`seats__as_of_source`,
    `t99`.`renewal_date`,
    `t99`.`renewal_date__as_of_source`,
    `t99`.`segment_rule`,
    `t99`.`p26__rows`,
    `t99`.`p26__latest`,
    `t99`.`p26__value`,
    `t99`.`p25__rows`,
    `t99`.`p25__latest`,
    `t99`.`p22__rows`,
    `t99`.`p22__latest`,
    `t99`.`p21__rows`,
    `t99`.`p21__latest`,
    `t99`.`p23__rows`,
    `t99`.`p23__latest`,
    `t99`.`p17__rows`,
    `t99`.`p17__latest`,
    `t99`.`p18__rows`,
    `t99`.`p18__latest`,
    `t99`.`p24__rows`,
    `t99`.`p24__latest`,
    `t99`.`p20__rows`,
    `t99`.`p20__latest`,
    `t99`.`p27__rows`,
    `t99`.`p27__latest`,
    `t99`.`p27__value`,
    `t99`.`p8__rows`,
    `t99`.`p8__latest`,
    `t99`.`p8__value`,
    `t99`.`p9__rows`,
    `t99`.`p9__latest`,
    `t99`.`p9__value`,
    `t99`.`p0__rows`,
    `t99`.`p0__latest`,
    `t99`.`p0__value`,
    `t99`.`p1__rows`,
    `t99`.`p1__latest`,
    `t99`.`p1__value`,
    `t99`.`p2__rows`,
    `t99`.`p2__latest`,
    `t99`.`p3__rows`,
    `t99`.`p3__latest`,
    `t99`.`p4__rows`,
    `t99`.`p4__latest`,
    `t99`.`p5__rows`,
    `t99`.`p5__latest`,
    `t99`.`p6__rows`,
    `t99`.`p6__latest`,
    `t99`.`p7__rows`,
    `t99`.`p7__latest`,
    `t99`.`p7__value`,
    `t50`.`g_account_id`,
    `t50`.`p10__rows`,
    `t50`.`p10__latest`,
    `t50`.`p11__rows`,
    `t50`.`p11__latest`,
    `t50`.`p11__value`,
    `t50`.`p12__rows`,
    `t50`.`p12__latest`,
    `t50`.`p13__rows`,
    `t50`.`p13__latest`,
    `t50`.`p14__rows`,
    `t50`.`p14__latest`,
    `t50`.`p15__rows`,
    `t50`.`p15__latest`,
    `t50`.`p16__rows`,
    `t50`.`p16__latest`,
    `t50`.`p16__value`,
    `t50`.`p19__rows`,
    `t50`.`p19__latest`,
    `t50`.`p19__value`
  FROM (
    SELECT
      `t97`.`account_id`,
      `t97`.`created_at`,
      `t97`.`as_of`,
      `t97`.`name`,
      `t97`.`name__as_of_source`,
      `t97`.`segment`,
      `t97`.`segment__as_of_source`,
      `t97`.`owner`,
      `t97`.`owner__as_of_source`,
      `t97`.`arr`,
      `t97`.`arr__as_of_source`,
      `t97`.`seats`,
      `t97`.`seats__as_of_source`,
      `t97`.`renewal_date`,
      `t97`.`renewal_date__as_of_source`,
      `t97`.`segment_rule`,
      `t97`.`p26__rows`,
      `t97`.`p26__latest`,
      `t97`.`p26__value`,
      `t97`.`p25__rows`,
      `t97`.`p25__latest`,
      `t97`.`p22__rows`,
      `t97`.`p22__latest`,
      `t97`.`p21__rows`,
      `t97`.`p21__latest`,
      `t97`.`p23__rows`,
      `t97`.`p23__latest`,
      `t97`.`p17__rows`,
      `t97`.`p17__latest`,
      `t97`.`p18__rows`,
      `t97`.`p18__latest`,
      `t97`.`p24__rows`,
      `t97`.`p24__latest`,
      `t97`.`p20__rows`,
      `t97`.`p20__latest`,
      `t97`.`p27__rows`,
      `t97`.`p27__latest`,
      `t97`.`p27__value`,
      `t97`.`p8__rows`,
      `t97`.`p8__latest`,
      `t97`.`p8__value`,
      `t97`.`p9__rows`,
      `t97`.`p9__latest`,
      `t97`.`p9__value`,
      `t97`.`p0__rows`,
      `t97`.`p0__latest`,
      `t97`.`p0__value`,
      `t97`.`p1__rows`,
      `t97`.`p1__latest`,
      `t97`.`p1__value`,
      `t97`.`p2__rows`,
      `t97`.`p2__latest`,
      `t97`.`p3__rows`,
      `t97`.`p3__latest`,
      `t97`.`p4__rows`,
      `t97`.`p4__latest`,
      `t97`.`p5__rows`,
      `t97`.`p5__latest`,
      `t97`.`p6__rows`,
      `t97`.`p6__latest`,
      `t97`.`p7__rows`,
      `t97`.`p7__latest`,
      `t97`.`p7__value`
    FROM (
      SELECT
        `t96`.`account_id`,
        `t96`.`created_at`,
        `t96`.`as_of`,
        `t96`.`name`,
        `t96`.`name__as_of_source`,
        `t96`.`segment`,
        `t96`.`segment__as_of_source`,
        `t96`.`owner`,
        `t96`.`owner__as_of_source`,
        `t96`.`arr`,
        `t96`.`arr__as_of_source`,
        `t96`.`seats`,
        `t96`.`seats__as_of_source`,
        `t96`.`renewal_date`,
        `t96`.`renewal_date__as_of_source`,
        `t96`.`segment_rule`,
        `t96`.`p26__rows`,
        `t96`.`p26__latest`,
        `t96`.`p26__value`,
        `t96`.`p25__rows`,
        `t96`.`p25__latest`,
        `t96`.`p22__rows`,
        `t96`.`p22__latest`,
        `t96`.`p21__rows`,
        `t96`.`p21__latest`,
        `t96`.`p23__rows`,
        `t96`.`p23__latest`,
        `t96`.`p17__rows`,
        `t96`.`p17__latest`,
        `t96`.`p18__rows`,
        `t96`.`p18__latest`,
        `t96`.`p24__rows`,
        `t96`.`p24__latest`,
        `t96`.`p20__rows`,
        `t96`.`p20__latest`,
        `t96`.`p27__rows`,
        `t96`.`p27__latest`,
        `t96`.`p27__value`,
        `t96`.`p8__rows`,
        `t96`.`p8__latest`,
        `t96`.`p8__value`,
        `t96`.`p9__rows`,
        `t96`.`p9__latest`,
        `t96`.`p9__value`,
        `t96`.`p0__rows`,
        `t96`.`p0__latest`,
        `t96`.`p0__value`,
        `t96`.`p1__rows`,
        `t96`.`p1__latest`,
        `t96`.`p1__value`,
        `t44`.`g_account_id`,
        `t44`.`p2__rows`,
        `t44`.`p2__latest`,
        `t44`.`p3__rows`,
        `t44`.`p3__latest`,
        `t44`.`p4__rows`,
        `t44`.`p4__latest`,
        `t44`.`p5__rows`,
        `t44`.`p5__latest`,
        `t44`.`p6__rows`,
        `t44`.`p6__latest`,
        `t44`.`p7__rows`,
        `t44`.`p7__latest`,
        `t44`.`p7__value`
      FROM (
        SELECT
          `t94`.`account_id`,
          `t94`.`created_at`,
          `t94`.`as_of`,
          `t94`.`name`,
          `t94`.`name__as_of_source`,
          `t94`.`segment`,
          `t94`.`segment__as_of_source`,
          `t94`.`owner`,
          `t94`.`owner__as_of_source`,
          `t94`.`arr`,
          `t94`.`arr__as_of_source`,
          `t94`.`seats`,
          `t94`.`seats__as_of_source`,
          `t94`.`renewal_date`,
          `t94`.`renewal_date__as_of_source`,
          `t94`.`segment_rule`,
          `t94`.`p26__rows`,
          `t94`.`p26__latest`,
          `t94`.`p26__value`,
          `t94`.`p25__rows`,
          `t94`.`p25__latest`,
          `t94`.`p22__rows`,
          `t94`.`p22__latest`,
          `t94`.`p21__rows`,
          `t94`.`p21__latest`,
          `t94`.`p23__rows`,
          `t94`.`p23__latest`,
          `t94`.`p17__rows`,
          `t94`.`p17__latest`,
          `t94`.`p18__rows`,
          `t94`.`p18__latest`,
          `t94`.`p24__rows`,
          `t94`.`p24__latest`,
          `t94`.`p20__rows`,
          `t94`.`p20__latest`,
          `t94`.`p27__rows`,
          `t94`.`p27__latest`,
          `t94`.`p27__value`,
          `t94`.`p8__rows`,
          `t94`.`p8__latest`,
          `t94`.`p8__value`,
          `t94`.`p9__rows`,
          `t94`.`p9__latest`,
          `t94`.`p9__value`,
          `t94`.`p0__rows`,
          `t94`.`p0__latest`,
          `t94`.`p0__value`,
          `t94`.`p1__rows`,
          `t94`.`p1__latest`,
          `t94`.`p1__value`
        FROM (
          SELECT
            `t93`.`account_id`,
            `t93`.`created_at`,
            `t93`.`as_of`,
            `t93`.`name`,
            `t93`.`name__as_of_source`,
            `t93`.`segment`,
            `t93`.`segment__as_of_source`,
            `t93`.`owner`,
            `t93`.`owner__as_of_source`,
            `t93`.`arr`,
            `t93`.`arr__as_of_source`,
            `t93`.`seats`,
            `t93`.`seats__as_of_source`,
            `t93`.`renewal_date`,
            `t93`.`renewal_date__as_of_source`,
            `t93`.`segment_rule`,
            `t93`.`p26__rows`,
            `t93`.`p26__latest`,
            `t93`.`p26__value`,
            `t93`.`p25__rows`,
            `t93`.`p25__latest`,
            `t93`.`p22__rows`,
            `t93`.`p22__latest`,
            `t93`.`p21__rows`,
            `t93`.`p21__latest`,
            `t93`.`p23__rows`,
            `t93`.`p23__latest`,
            `t93`.`p17__rows`,
            `t93`.`p17__latest`,
            `t93`.`p18__rows`,
            `t93`.`p18__latest`,
            `t93`.`p24__rows`,
            `t93`.`p24__latest`,
            `t93`.`p20__rows`,
            `t93`.`p20__latest`,
            `t93`.`p27__rows`,
            `t93`.`p27__latest`,
            `t93`.`p27__value`,
            `t93`.`p8__rows`,
            `t93`.`p8__latest`,
            `t93`.`p8__value`,
            `t93`.`p9__rows`,
            `t93`.`p9__latest`,
            `t93`.`p9__value`,
            `t38`.`g_account_id`,
            `t38`.`p0__rows`,
            `t38`.`p0__latest`,
            `t38`.`p0__value`,
            `t38`.`p1__rows`,
            `t38`.`p1__latest`,
            `t38`.`p1__value`
          FROM (
            SELECT
              `t91`.`account_id`,
              `t91`.`created_at`,
              `t91`.`as_of`,
              `t91`.`name`,
              `t91`.`name__as_of_source`,
              `t91`.`segment`,
              `t91`.`segment__as_of_source`,
              `t91`.`owner`,
              `t91`.`owner__as_of_source`,
              `t91`.`arr`,
              `t91`.`arr__as_of_source`,
              `t91`.`seats`,
              `t91`.`seats__as_of_source`,
              `t91`.`renewal_date`,
              `t91`.`renewal_date__as_of_source`,
              `t91`.`segment_rule`,
              `t91`.`p26__rows`,
              `t91`.`p26__latest`,
              `t91`.`p26__value`,
              `t91`.`p25__rows`,
              `t91`.`p25__latest`,
              `t91`.`p22__rows`,
              `t91`.`p22__latest`,
              `t91`.`p21__rows`,
              `t91`.`p21__latest`,
              `t91`.`p23__rows`,
              `t91`.`p23__latest`,
              `t91`.`p17__rows`,
              `t91`.`p17__latest`,
              `t91`.`p18__rows`,
              `t91`.`p18__latest`,
              `t91`.`p24__rows`,
              `t91`.`p24__latest`,
              `t91`.`p20__rows`,
              `t91`.`p20__latest`,
              `t91`.`p27__rows`,
              `t91`.`p27__latest`,
              `t91`.`p27__value`,
              `t91`.`p8__rows`,
              `t91`.`p8__latest`,
              `t91`.`p8__value`,
              `t91`.`p9__rows`,
              `t91`.`p9__latest`,
              `t91`.`p9__value`
            FROM (
              SELECT
                `t90`.`account_id`,
                `t90`.`created_at`,
                `t90`.`as_of`,
                `t90`.`name`,
                `t90`.`name__as_of_source`,
                `t90`.`segment`,
                `t90`.`segment__as_of_source`,
                `t90`.`owner`,
                `t90`.`owner__as_of_source`,
                `t90`.`arr`,
                `t90`.`arr__as_of_source`,
                `t90`.`seats`,
                `t90`.`seats__as_of_source`,
                `t90`.`renewal_date`,
                `t90`.`renewal_date__as_of_source`,
                `t90`.`segment_rule`,
                `t90`.`p26__rows`,
                `t90`.`p26__latest`,
                `t90`.`p26__value`,
                `t90`.`p25__rows`,
                `t90`.`p25__latest`,
                `t90`.`p22__rows`,
                `t90`.`p22__latest`,
                `t90`.`p21__rows`,
                `t90`.`p21__latest`,
                `t90`.`p23__rows`,
                `t90`.`p23__latest`,
                `t90`.`p17__rows`,
                `t90`.`p17__latest`,
                `t90`.`p18__rows`,
                `t90`.`p18__latest`,
                `t90`.`p24__rows`,
                `t90`.`p24__latest`,
                `t90`.`p20__rows`,
                `t90`.`p20__latest`,
                `t90`.`p27__rows`,
                `t90`.`p27__latest`,
                `t90`.`p27__value`,
                `t51`.`g_account_id`,
                `t51`.`p8__rows`,
                `t51`.`p8__latest`,
                `t51`.`p8__value`,
                `t51`.`p9__rows`,
                `t51`.`p9__latest`,
                `t51`.`p9__value`
              FROM (
                SELECT
                  `t88`.`account_id`,
                  `t88`.`created_at`,
                  `t88`.`as_of`,
                  `t88`.`name`,
                  `t88`.`name__as_of_source`,
                  `t88`.`segment`,
                  `t88`.`segment__as_of_source`,
                  `t88`.`owner`,
                  `t88`.`owner__as_of_source`,
                  `t88`.`arr`,
                  `t88`.`arr__as_of_source`,
                  `t88`.`seats`,
                  `t88`.`seats__as_of_source`,
                  `t88`.`renewal_date`,
                  `t88`.`renewal_date__as_of_source`,
                  `t88`.`segment_rule`,
                  `t88`.`p26__rows`,
                  `t88`.`p26__latest`,
                  `t88`.`p26__value`,
                  `t88`.`p25__rows`,
                  `t88`.`p25__latest`,
                  `t88`.`p22__rows`,
                  `t88`.`p22__latest`,
                  `t88`.`p21__rows`,
                  `t88`.`p21__latest`,
                  `t88`.`p23__rows`,
                  `t88`.`p23__latest`,
                  `t88`.`p17__rows`,
                  `t88`.`p17__latest`,
                  `t88`.`p18__rows`,
                  `t88`.`p18__latest`,
                  `t88`.`p24__rows`,
                  `t88`.`p24__latest`,
                  `t88`.`p20__rows`,
                  `t88`.`p20__latest`,
                  `t88`.`p27__rows`,
                  `t88`.`p27__latest`,
                  `t88`.`p27__value`
                FROM (
                  SELECT
                    `t87`.`account_id`,
                    `t87`.`created_at`,
                    `t87`.`as_of`,
                    `t87`.`name`,
                    `t87`.`name__as_of_source`,
                    `t87`.`segment`,
                    `t87`.`segment__as_of_source`,
                    `t87`.`owner`,
                    `t87`.`owner__as_of_source`,
                    `t87`.`arr`,
                    `t87`.`arr__as_of_source`,
                    `t87`.`seats`,
                    `t87`.`seats__as_of_source`,
                    `t87`.`renewal_date`,
                    `t87`.`renewal_date__as_of_source`,
                    `t87`.`segment_rule`,
                    `t87`.`p26__rows`,
                    `t87`.`p26__latest`,
                    `t87`.`p26__value`,
                    `t87`.`p25__rows`,
                    `t87`.`p25__latest`,
                    `t87`.`p22__rows`,
                    `t87`.`p22__latest`,
                    `t87`.`p21__rows`,
                    `t87`.`p21__latest`,
                    `t87`.`p23__rows`,
                    `t87`.`p23__latest`,
                    `t87`.`p17__rows`,
                    `t87`.`p17__latest`,
                    `t87`.`p18__rows`,
                    `t87`.`p18__latest`,
                    `t87`.`p24__rows`,
                    `t87`.`p24__latest`,
                    `t46`.`g_account_id`,
                    `t46`.`p20__rows`,
                    `t46`.`p20__latest`,
                    `t46`.`p27__rows`,
                    `t46`.`p27__latest`,
                    `t46`.`p27__value`
                  FROM (
                    SELECT
                      `t85`.`account_id`,
                      `t85`.`created_at`,
                      `t85`.`as_of`,
                      `t85`.`name`,
                      `t85`.`name__as_of_source`,
                      `t85`.`segment`,
                      `t85`.`segment__as_of_source`,
                      `t85`.`owner`,
                      `t85`.`owner__as_of_source`,
                      `t85`.`arr`,
                      `t85`.`arr__as_of_source`,
                      `t85`.`seats`,
                      `t85`.`seats__as_of_source`,
                      `t85`.`renewal_date`,
                      `t85`.`renewal_date__as_of_source`,
                      `t85`.`segment_rule`,
                      `t85`.`p26__rows`,
                      `t85`.`p26__latest`,
                      `t85`.`p26__value`,
                      `t85`.`p25__rows`,
                      `t85`.`p25__latest`,
                      `t85`.`p22__rows`,
                      `t85`.`p22__latest`,
                      `t85`.`p21__rows`,
                      `t85`.`p21__latest`,
                      `t85`.`p23__rows`,
                      `t85`.`p23__latest`,
                      `t85`.`p17__rows`,
                      `t85`.`p17__latest`,
                      `t85`.`p18__rows`,
                      `t85`.`p18__latest`,
                      `t85`.`p24__rows`,
                      `t85`.`p24__latest`
                    FROM (
                      SELECT
                        `t84`.`account_id`,
                        `t84`.`created_at`,
                        `t84`.`as_of`,
                        `t84`.`name`,
                        `t84`.`name__as_of_source`,
                        `t84`.`segment`,
                        `t84`.`segment__as_of_source`,
                        `t84`.`owner`,
                        `t84`.`owner__as_of_source`,
                        `t84`.`arr`,
                        `t84`.`arr__as_of_source`,
                        `t84`.`seats`,
                        `t84`.`seats__as_of_source`,
                        `t84`.`renewal_date`,
                        `t84`.`renewal_date__as_of_source`,
                        `t84`.`segment_rule`,
                        `t84`.`p26__rows`,
                        `t84`.`p26__latest`,
                        `t84`.`p26__value`,
                        `t84`.`p25__rows`,
                        `t84`.`p25__latest`,
                        `t84`.`p22__rows`,
                        `t84`.`p22__latest`,
                        `t84`.`p21__rows`,
                        `t84`.`p21__latest`,
                        `t84`.`p23__rows`,
                        `t84`.`p23__latest`,
                        `t84`.`p17__rows`,
                        `t84`.`p17__latest`,
                        `t84`.`p18__rows`,
                        `t84`.`p18__latest`,
                        `t57`.`g_account_id`,
                        `t57`.`p24__rows`,
                        `t57`.`p24__latest`
                      FROM (
                        SELECT
                          `t82`.`account_id`,
                          `t82`.`created_at`,
                          `t82`.`as_of`,
                          `t82`.`name`,
                          `t82`.`name__as_of_source`,
                          `t82`.`segment`,
                          `t82`.`segment__as_of_source`,
                          `t82`.`owner`,
                          `t82`.`owner__as_of_source`,
                          `t82`.`arr`,
                          `t82`.`arr__as_of_source`,
                          `t82`.`seats`,
                          `t82`.`seats__as_of_source`,
                          `t82`.`renewal_date`,
                          `t82`.`renewal_date__as_of_source`,
                          `t82`.`segment_rule`,
                          `t82`.`p26__rows`,
                          `t82`.`p26__latest`,
                          `t82`.`p26__value`,
                          `t82`.`p25__rows`,
                          `t82`.`p25__latest`,
                          `t82`.`p22__rows`,
                          `t82`.`p22__latest`,
                          `t82`.`p21__rows`,
                          `t82`.`p21__latest`,
                          `t82`.`p23__rows`,
                          `t82`.`p23__latest`,
                          `t82`.`p17__rows`,
                          `t82`.`p17__latest`,
                          `t82`.`p18__rows`,
                          `t82`.`p18__latest`
                        FROM (
                          SELECT
                            `t81`.`account_id`,
                            `t81`.`created_at`,
                            `t81`.`as_of`,
                            `t81`.`name`,
                            `t81`.`name__as_of_source`,
                            `t81`.`segment`,
                            `t81`.`segment__as_of_source`,
                            `t81`.`owner`,
                            `t81`.`owner__as_of_source`,
                            `t81`.`arr`,
                            `t81`.`arr__as_of_source`,
                            `t81`.`seats`,
                            `t81`.`seats__as_of_source`,
                            `t81`.`renewal_date`,
                            `t81`.`renewal_date__as_of_source`,
                            `t81`.`segment_rule`,
                            `t81`.`p26__rows`,
                            `t81`.`p26__latest`,
                            `t81`.`p26__value`,
                            `t81`.`p25__rows`,
                            `t81`.`p25__latest`,
                            `t81`.`p22__rows`,
                            `t81`.`p22__latest`,
                            `t81`.`p21__rows`,
                            `t81`.`p21__latest`,
                            `t81`.`p23__rows`,
                            `t81`.`p23__latest`,
                            `t81`.`p17__rows`,
                            `t81`.`p17__latest`,
                            `t47`.`g_account_id`,
                            `t47`.`p18__rows`,
                            `t47`.`p18__latest`
                          FROM (
                            SELECT
                              `t79`.`account_id`,
                              `t79`.`created_at`,
                              `t79`.`as_of`,
                              `t79`.`name`,
                              `t79`.`name__as_of_source`,
                              `t79`.`segment`,
                              `t79`.`segment__as_of_source`,
                              `t79`.`owner`,
                              `t79`.`owner__as_of_source`,
                              `t79`.`arr`,
                              `t79`.`arr__as_of_source`,
                              `t79`.`seats`,
                              `t79`.`seats__as_of_source`,
                              `t79`.`renewal_date`,
                              `t79`.`renewal_date__as_of_source`,
                              `t79`.`segment_rule`,
                              `t79`.`p26__rows`,
                              `t79`.`p26__latest`,
                              `t79`.`p26__value`,
                              `t79`.`p25__rows`,
                              `t79`.`p25__latest`,
                              `t79`.`p22__rows`,
                              `t79`.`p22__latest`,
                              `t79`.`p21__rows`,
                              `t79`.`p21__latest`,
                              `t79`.`p23__rows`,
                              `t79`.`p23__latest`,
                              `t79`.`p17__rows`,
                              `t79`.`p17__latest`
                            FROM (
                              SELECT
                                `t78`.`account_id`,
                                `t78`.`created_at`,
                                `t78`.`as_of`,
                                `t78`.`name`,
                                `t78`.`name__as_of_source`,
                                `t78`.`segment`,
                                `t78`.`segment__as_of_source`,
                                `t78`.`owner`,
                                `t78`.`owner__as_of_source`,
                                `t78`.`arr`,
                                `t78`.`arr__as_of_source`,
                                `t78`.`seats`,
                                `t78`.`seats__as_of_source`,
                                `t78`.`renewal_date`,
                                `t78`.`renewal_date__as_of_source`,
                                `t78`.`segment_rule`,
                                `t78`.`p26__rows`,
                                `t78`.`p26__latest`,
                                `t78`.`p26__value`,
                                `t78`.`p25__rows`,
                                `t78`.`p25__latest`,
                                `t78`.`p22__rows`,
                                `t78`.`p22__latest`,
                                `t78`.`p21__rows`,
                                `t78`.`p21__latest`,
                                `t78`.`p23__rows`,
                                `t78`.`p23__latest`,
                                `t58`.`g_account_id`,
                                `t58`.`p17__rows`,
                                `t58`.`p17__latest`
                              FROM (
                                SELECT
                                  `t76`.`account_id`,
                                  `t76`.`created_at`,
                                  `t76`.`as_of`,
                                  `t76`.`name`,
                                  `t76`.`name__as_of_source`,
                                  `t76`.`segment`,
                                  `t76`.`segment__as_of_source`,
                                  `t76`.`owner`,
                                  `t76`.`owner__as_of_source`,
                                  `t76`.`arr`,
                                  `t76`.`arr__as_of_source`,
                                  `t76`.`seats`,
                                  `t76`.`seats__as_of_source`,
                                  `t76`.`renewal_date`,
                                  `t76`.`renewal_date__as_of_source`,
                                  `t76`.`segment_rule`,
                                  `t76`.`p26__rows`,
                                  `t76`.`p26__latest`,
                                  `t76`.`p26__value`,
                                  `t76`.`p25__rows`,
                                  `t76`.`p25__latest`,
                                  `t76`.`p22__rows`,
                                  `t76`.`p22__latest`,
                                  `t76`.`p21__rows`,
                                  `t76`.`p21__latest`,
                                  `t76`.`p23__rows`,
                                  `t76`.`p23__latest`
                                FROM (
                                  SELECT
                                    `t75`.`account_id`,
                                    `t75`.`created_at`,
                                    `t75`.`as_of`,
                                    `t75`.`name`,
                                    `t75`.`name__as_of_source`,
                                    `t75`.`segment`,
                                    `t75`.`segment__as_of_source`,
                                    `t75`.`owner`,
                                    `t75`.`owner__as_of_source`,
                                    `t75`.`arr`,
                                    `t75`.`arr__as_of_source`,
                                    `t75`.`seats`,
                                    `t75`.`seats__as_of_source`,
                                    `t75`.`renewal_date`,
                                    `t75`.`renewal_date__as_of_source`,
                                    `t75`.`segment_rule`,
                                    `t75`.`p26__rows`,
                                    `t75`.`p26__latest`,
                                    `t75`.`p26__value`,
                                    `t75`.`p25__rows`,
                                    `t75`.`p25__latest`,
                                    `t75`.`p22__rows`,
                                    `t75`.`p22__latest`,
                                    `t48`.`g_account_id`,
                                    `t48`.`p21__rows`,
                                    `t48`.`p21__latest`,
                                    `t48`.`p23__rows`,
                                    `t48`.`p23__latest`
                                  FROM (
                                    SELECT
                                      `t73`.`account_id`,
                                      `t73`.`created_at`,
                                      `t73`.`as_of`,
                                      `t73`.`name`,
                                      `t73`.`name__as_of_source`,
                                      `t73`.`segment`,
                                      `t73`.`segment__as_of_source`,
                                      `t73`.`owner`,
                                      `t73`.`owner__as_of_source`,
                                      `t73`.`arr`,
                                      `t73`.`arr__as_of_source`,
                                      `t73`.`seats`,
                                      `t73`.`seats__as_of_source`,
                                      `t73`.`renewal_date`,
                                      `t73`.`renewal_date__as_of_source`,
                                      `t73`.`segment_rule`,
                                      `t73`.`p26__rows`,
                                      `t73`.`p26__latest`,
                                      `t73`.`p26__value`,
                                      `t73`.`p25__rows`,
                                      `t73`.`p25__latest`,
                                      `t73`.`p22__rows`,
                                      `t73`.`p22__latest`
                                    FROM (
                                      SELECT
                                        `t72`.`account_id`,
                                        `t72`.`created_at`,
                                        `t72`.`as_of`,
                                        `t72`.`name`,
                                        `t72`.`name__as_of_source`,
                                        `t72`.`segment`,
                                        `t72`.`segment__as_of_source`,
                                        `t72`.`owner`,
                                        `t72`.`owner__as_of_source`,
                                        `t72`.`arr`,
                                        `t72`.`arr__as_of_source`,
                                        `t72`.`seats`,
                                        `t72`.`seats__as_of_source`,
                                        `t72`.`renewal_date`,
                                        `t72`.`renewal_date__as_of_source`,
                                        `t72`.`segment_rule`,
                                        `t72`.`p26__rows`,
                                        `t72`.`p26__latest`,
                                        `t72`.`p26__value`,
                                        `t72`.`p25__rows`,
                                        `t72`.`p25__latest`,
                                        `t59`.`g_account_id`,
                                        `t59`.`p22__rows`,
                                        `t59`.`p22__latest`
                                      FROM (
                                        SELECT
                                          `t70`.`account_id`,
                                          `t70`.`created_at`,
                                          `t70`.`as_of`,
                                          `t70`.`name`,
                                          `t70`.`name__as_of_source`,
                                          `t70`.`segment`,
                                          `t70`.`segment__as_of_source`,
                                          `t70`.`owner`,
                                          `t70`.`owner__as_of_source`,
                                          `t70`.`arr`,
                                          `t70`.`arr__as_of_source`,
                                          `t70`.`seats`,
                                          `t70`.`seats__as_of_source`,
                                          `t70`.`renewal_date`,
                                          `t70`.`renewal_date__as_of_source`,
                                          `t70`.`segment_rule`,
                                          `t70`.`p26__rows`,
                                          `t70`.`p26__latest`,
                                          `t70`.`p26__value`,
                                          `t70`.`p25__rows`,
                                          `t70`.`p25__latest`
                                        FROM (
                                          SELECT
                                            `t69`.`account_id`,
                                            `t69`.`created_at`,
                                            `t69`.`as_of`,
                                            `t69`.`name`,
                                            `t69`.`name__as_of_source`,
                                            `t69`.`segment`,
                                            `t69`.`segment__as_of_source`,
                                            `t69`.`owner`,
                                            `t69`.`owner__as_of_source`,
                                            `t69`.`arr`,
                                            `t69`.`arr__as_of_source`,
                                            `t69`.`seats`,
                                            `t69`.`seats__as_of_source`,
                                            `t69`.`renewal_date`,
                                            `t69`.`renewal_date__as_of_source`,
                                            `t69`.`segment_rule`,
                                            `t69`.`p26__rows`,
                                            `t69`.`p26__latest`,
                                            `t69`.`p26__value`,
                                            `t49`.`g_account_id`,
                                            `t49`.`p25__rows`,
                                            `t49`.`p25__latest`
                                          FROM (
                                            SELECT
                                              `t67`.`account_id`,
                                              `t67`.`created_at`,
                                              `t67`.`as_of`,
                                              `t67`.`name`,
                                              `t67`.`name__as_of_source`,
                                              `t67`.`segment`,
                                              `t67`.`segment__as_of_source`,
                                              `t67`.`owner`,
                                              `t67`.`owner__as_of_source`,
                                              `t67`.`arr`,
                                              `t67`.`arr__as_of_source`,
                                              `t67`.`seats`,
                                              `t67`.`seats__as_of_source`,
                                              `t67`.`renewal_date`,
                                              `t67`.`renewal_date__as_of_source`,
                                              `t67`.`segment_rule`,
                                              `t67`.`p26__rows`,
                                              `t67`.`p26__latest`,
                                              `t67`.`p26__value`
                                            FROM (
                                              SELECT
                                                `t66`.`account_id`,
                                                `t66`.`created_at`,
                                                `t66`.`as_of`,
                                                `t66`.`name`,
                                                `t66`.`name__as_of_source`,
                                                `t66`.`segment`,
                                                `t66`.`segment__as_of_source`,
                                                `t66`.`owner`,
                                                `t66`.`owner__as_of_source`,
                                                `t66`.`arr`,
                                                `t66`.`arr__as_of_source`,
                                                `t66`.`seats`,
                                                `t66`.`seats__as_of_source`,
                                                `t66`.`renewal_date`,
                                                `t66`.`renewal_date__as_of_source`,
                                                `t66`.`segment_rule`,
                                                `t36`.`g_account_id`,
                                                `t36`.`p26__rows`,
                                                `t36`.`p26__latest`,
                                                `t36`.`p26__value`
                                              FROM (
                                                SELECT
                                                  `t64`.`account_id`,
                                                  `t64`.`created_at`,
                                                  `t64`.`as_of`,
                                                  `t64`.`name`,
                                                  `t64`.`name__as_of_source`,
                                                  `t64`.`segment`,
                                                  `t64`.`segment__as_of_source`,
                                                  `t64`.`owner`,
                                                  `t64`.`owner__as_of_source`,
                                                  `t64`.`arr`,
                                                  `t64`.`arr__as_of_source`,
                                                  `t64`.`seats`,
                                                  `t64`.`seats__as_of_source`,
                                                  `t64`.`renewal_date`,
                                                  `t64`.`renewal_date__as_of_source`,
                                                  CASE
                                                    WHEN TRUE AND COALESCE(`t64`.`segment` = 'enterprise', FALSE)
                                                    THEN 'enterprise'
                                                    WHEN TRUE AND COALESCE(`t64`.`segment` = 'SMB', FALSE)
                                                    THEN 'smb'
                                                    ELSE CAST(NULL AS STRING)
                                                  END AS `segment_rule`
                                                FROM (
                                                  SELECT
                                                    `t63`.`account_id`,
                                                    `t63`.`created_at`,
                                                    `t63`.`as_of`,
                                                    IF(`t63`.`chg__name` IS NOT NULL, `t63`.`chg__name`, `t63`.`name`) AS `name`,
                                                    IF(`t63`.`chg__name` IS NOT NULL, 'account_changes', 'current') AS `name__as_of_source`,
                                                    IF(`t63`.`chg__segment` IS NOT NULL, `t63`.`chg__segment`, `t63`.`segment`) AS `segment`,
                                                    IF(`t63`.`chg__segment` IS NOT NULL, 'account_changes', 'current') AS `segment__as_of_source`,
                                                    IF(`t63`.`chg__owner` IS NOT NULL, `t63`.`chg__owner`, `t63`.`owner`) AS `owner`,
                                                    IF(`t63`.`chg__owner` IS NOT NULL, 'account_changes', 'current') AS `owner__as_of_source`,
                                                    IF(
                                                      `t25`.`h_account_id` IS NOT NULL,
                                                      COALESCE(`t63`.`sub__arr`, 0),
                                                      IF(
                                                        IF(
                                                          REGEXP_LIKE(`t63`.`chg__arr`, '^[-+]?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?$'),
                                                          CAST(`t63`.`chg__arr` AS DOUBLE),
                                                          CAST(NULL AS DOUBLE)
                                                        ) IS NOT NULL
                                                        AND NOT ISNAN(
                                                          IF(
                                                            REGEXP_LIKE(`t63`.`chg__arr`, '^[-+]?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?$'),
                                                            CAST(`t63`.`chg__arr` AS DOUBLE),
                                                            CAST(NULL AS DOUBLE)
                                                          )
                                                        ),
                                                        IF(
                                                          REGEXP_LIKE(`t63`.`chg__arr`, '^[-+]?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?$'),
                                                          CAST(`t63`.`chg__arr` AS DOUBLE),
                                                          CAST(NULL AS DOUBLE)
                                                        ),
                                                        `t63`.`arr`
                                                      )
                                                    ) AS `arr`,
                                                    IF(
                                                      `t25`.`h_account_id` IS NOT NULL,
                                                      'subscriptions',
                                                      IF(
                                                        IF(
                                                          REGEXP_LIKE(`t63`.`chg__arr`, '^[-+]?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?$'),
                                                          CAST(`t63`.`chg__arr` AS DOUBLE),
                                                          CAST(NULL AS DOUBLE)
                                                        ) IS NOT NULL
                                                        AND NOT ISNAN(
                                                          IF(
                                                            REGEXP_LIKE(`t63`.`chg__arr`, '^[-+]?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?$'),
                                                            CAST(`t63`.`chg__arr` AS DOUBLE),
                                                            CAST(NULL AS DOUBLE)
                                                          )
                                                        ),
                                                        'account_changes',
                                                        'current'
                                                      )
                                                    ) AS `arr__as_of_source`,
                                                    IF(
                                                      `t25`.`h_account_id` IS NOT NULL,
                                                      COALESCE(`t63`.`sub__seats`, 0),
                                                      IF(
                                                        IF(
                                                          REGEXP_LIKE(`t63`.`chg__seats`, '^[-+]?[0-9]+$'),
                                                          CAST(`t63`.`chg__seats` AS BIGINT),
                                                          CAST(NULL AS BIGINT)
                                                        ) IS NOT NULL,
                                                        IF(
                                                          REGEXP_LIKE(`t63`.`chg__seats`, '^[-+]?[0-9]+$'),
                                                          CAST(`t63`.`chg__seats` AS BIGINT),
                                                          CAST(NULL AS BIGINT)
                                                        ),
                                                        `t63`.`seats`
                                                      )
                                                    ) AS `seats`,
                                                    IF(
                                                      `t25`.`h_account_id` IS NOT NULL,
                                                      'subscriptions',
                                                      IF(
                                                        IF(
                                                          REGEXP_LIKE(`t63`.`chg__seats`, '^[-+]?[0-9]+$'),
                                                          CAST(`t63`.`chg__seats` AS BIGINT),
                                                          CAST(NULL AS BIGINT)
                                                        ) IS NOT NULL,
                                                        'account_changes',
                                                        'current'
                                                      )
                                                    ) AS `seats__as_of_source`,
                                                    IF(
                                                      `t25`.`h_account_id` IS NOT NULL,
                                                      `t63`.`sub__renewal_date`,
                                                      IF(
                                                        IF(
                                                          REGEXP_LIKE(
                                                            `t63`.`chg__renewal_date`,
                                                            '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?$'
                                                          ),
                                                          CAST(`t63`.`chg__renewal_date` AS TIMESTAMP),
                                                          CAST(NULL AS TIMESTAMP)
                                                        ) IS NOT NULL,
                                                        IF(
                                                          REGEXP_LIKE(
                                                            `t63`.`chg__renewal_date`,
                                                            '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?$'
                                                          ),
                                                          CAST(`t63`.`chg__renewal_date` AS TIMESTAMP),
                                                          CAST(NULL AS TIMESTAMP)
                                                        ),
                                                        `t63`.`renewal_date`
                                                      )
                                                    ) AS `renewal_date`,
                                                    IF(
                                                      `t25`.`h_account_id` IS NOT NULL,
                                                      'subscriptions',
                                                      IF(
                                                        IF(
                                                          REGEXP_LIKE(
                                                            `t63`.`chg__renewal_date`,
                                                            '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?$'
                                                          ),
                                                          CAST(`t63`.`chg__renewal_date` AS TIMESTAMP),
                                                          CAST(NULL AS TIMESTAMP)
                                                        ) IS NOT NULL,
                                                        'account_changes',
                                                        'current'
                                                      )
                                                    ) AS `renewal_date__as_of_source`
                                                  FROM (
                                                    SELECT
                                                      `t61`.`account_id`,
                                                      `t61`.`name`,
                                                      `t61`.`segment`,
                                                      `t61`.`owner`,
                                                      `t61`.`arr`,
                                                      `t61`.`seats`,
                                                      `t61`.`created_at`,
                                                      `t61`.`renewal_date`,
                                                      `t61`.`as_of`,
                                                      `t61`.`chg__name`,
                                                      `t61`.`chg__segment`,
                                                      `t61`.`chg__owner`,
                                                      `t61`.`chg__arr`,
                                                      `t61`.`chg__seats`,
                                                      `t61`.`chg__renewal_date`,
                                                      `t61`.`sub__arr`,
                                                      `t61`.`sub__seats`,
                                                      `t61`.`sub__plan`,
                                                      `t61`.`sub__renewal_date`
                                                    FROM (
                                                      SELECT
                                                        `t60`.`account_id`,
                                                        `t60`.`name`,
                                                        `t60`.`segment`,
                                                        `t60`.`owner`,
                                                        `t60`.`arr`,
                                                        `t60`.`seats`,
                                                        `t60`.`created_at`,
                                                        `t60`.`renewal_date`,
                                                        `t60`.`as_of`,
                                                        `t60`.`chg__name`,
                                                        `t60`.`chg__segment`,
                                                        `t60`.`chg__owner`,
                                                        `t60`.`chg__arr`,
                                                        `t60`.`chg__seats`,
                                                        `t60`.`chg__renewal_date`,
                                                        `t33`.`g_account_id`,
                                                        `t33`.`sub__arr`,
                                                        `t33`.`sub__seats`,
                                                        `t33`.`sub__plan`,
                                                        `t33`.`sub__renewal_date`
                                                      FROM (
                                                        SELECT
                                                          `t52`.`account_id`,
                                                          `t52`.`name`,
                                                          `t52`.`segment`,
                                                          `t52`.`owner`,
                                                          `t52`.`arr`,
                                                          `t52`.`seats`,
                                                          `t52`.`created_at`,
                                                          `t52`.`renewal_date`,
                                                          `t52`.`as_of`,
                                                          `t52`.`chg__name`,
                                                          `t52`.`chg__segment`,
                                                          `t52`.`chg__owner`,
                                                          `t52`.`chg__arr`,
                                                          `t52`.`chg__seats`,
                                                          `t52`.`chg__renewal_date`
                                                        FROM (
                                                          SELECT
                                                            `t29`.`account_id`,
                                                            `t29`.`name`,
                                                            `t29`.`segment`,
                                                            `t29`.`owner`,
                                                            `t29`.`arr`,
                                                            `t29`.`seats`,
                                                            `t29`.`created_at`,
                                                            `t29`.`renewal_date`,
                                                            `t29`.`as_of`,
                                                            `t34`.`g_account_id`,
                                                            `t34`.`chg__name`,
                                                            `t34`.`chg__segment`,
                                                            `t34`.`chg__owner`,
                                                            `t34`.`chg__arr`,
                                                            `t34`.`chg__seats`,
                                                            `t34`.`chg__renewal_date`
                                                          FROM (
                                                            SELECT
                                                              `t10`.`account_id`,
                                                              `t10`.`name`,
                                                              `t10`.`segment`,
                                                              `t10`.`owner`,
                                                              `t10`.`arr`,
                                                              `t10`.`seats`,
                                                              `t10`.`created_at`,
                                                              `t10`.`renewal_date`,
                                                              CAST('2025-06-01T00:00:00' AS TIMESTAMP) AS `as_of`
                                                            FROM `accounts` AS `t10`
                                                            WHERE
                                                              (
                                                                `t10`.`created_at` IS NULL
                                                              )
                                                              OR (
                                                                `t10`.`created_at` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                                              )
                                                          ) AS `t29`
                                                          LEFT OUTER JOIN (
                                                            SELECT
                                                              `t26`.`account_id` AS `g_account_id`,
                                                              MAX_BY(
                                                                IF(`t26`.`field` = 'name', `t26`.`value`, NULL),
                                                                IF(`t26`.`field` = 'name', `t26`.`ts`, NULL)
                                                              ) AS `chg__name`,
                                                              MAX_BY(
                                                                IF(`t26`.`field` = 'segment', `t26`.`value`, NULL),
                                                                IF(`t26`.`field` = 'segment', `t26`.`ts`, NULL)
                                                              ) AS `chg__segment`,
                                                              MAX_BY(
                                                                IF(`t26`.`field` = 'owner', `t26`.`value`, NULL),
                                                                IF(`t26`.`field` = 'owner', `t26`.`ts`, NULL)
                                                              ) AS `chg__owner`,
                                                              MAX_BY(
                                                                IF(`t26`.`field` = 'arr', `t26`.`value`, NULL),
                                                                IF(`t26`.`field` = 'arr', `t26`.`ts`, NULL)
                                                              ) AS `chg__arr`,
                                                              MAX_BY(
                                                                IF(`t26`.`field` = 'seats', `t26`.`value`, NULL),
                                                                IF(`t26`.`field` = 'seats', `t26`.`ts`, NULL)
                                                              ) AS `chg__seats`,
                                                              MAX_BY(
                                                                IF(`t26`.`field` = 'renewal_date', `t26`.`value`, NULL),
                                                                IF(`t26`.`field` = 'renewal_date', `t26`.`ts`, NULL)
                                                              ) AS `chg__renewal_date`
                                                            FROM (
                                                              SELECT
                                                                *
                                                              FROM `account_changes` AS `t11`
                                                              WHERE
                                                                `t11`.`field` IN ('name', 'segment', 'owner', 'arr', 'seats', 'renewal_date')
                                                                AND `t11`.`ts` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                                            ) AS `t26`
                                                            GROUP BY
                                                              1
                                                          ) AS `t34`
                                                            ON `t29`.`account_id` = `t34`.`g_account_id`
                                                        ) AS `t52`
                                                      ) AS `t60`
                                                      LEFT OUTER JOIN (
                                                        SELECT
                                                          `t27`.`account_id` AS `g_account_id`,
                                                          SUM(`t27`.`arr`) AS `sub__arr`,
                                                          SUM(`t27`.`seats`) AS `sub__seats`,
                                                          MAX_BY(`t27`.`plan`, `t27`.`starts_at`) AS `sub__plan`,
                                                          MIN(`t27`.`ends_at`) AS `sub__renewal_date`
                                                        FROM (
                                                          SELECT
                                                            *
                                                          FROM `subscriptions` AS `t9`
                                                          WHERE
                                                            `t9`.`starts_at` <= CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                                            AND (
                                                              (
                                                                `t9`.`ends_at` IS NULL
                                                              )
                                                              OR (
                                                                `t9`.`ends_at` > CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                                              )
                                                            )
                                                        ) AS `t27`
                                                        GROUP BY
                                                          1
                                                      ) AS `t33`
                                                        ON `t60`.`account_id` = `t33`.`g_account_id`
                                                    ) AS `t61`
                                                  ) AS `t63`
                                                  LEFT OUTER JOIN (
                                                    SELECT DISTINCT
                                                      `t9`.`account_id` AS `h_account_id`
                                                    FROM `subscriptions` AS `t9`
                                                  ) AS `t25`
                                                    ON `t63`.`account_id` = `t25`.`h_account_id`
                                                ) AS `t64`
                                              ) AS `t66`
                                              LEFT OUTER JOIN (
                                                SELECT
                                                  `t24`.`account_id` AS `g_account_id`,
                                                  COUNT(IF(TRUE AND (
                                                    `t24`.`sentiment` IS NOT NULL
                                                  ), `t24`.`ts`, NULL)) AS `p26__rows`,
                                                  MAX(IF(TRUE AND (
                                                    `t24`.`sentiment` IS NOT NULL
                                                  ), `t24`.`ts`, NULL)) AS `p26__latest`,
                                                  MAX_BY(
                                                    IF(TRUE AND (
                                                      `t24`.`sentiment` IS NOT NULL
                                                    ), `t24`.`sentiment`, NULL),
                                                    IF(TRUE AND (
                                                      `t24`.`sentiment` IS NOT NULL
                                                    ), `t24`.`ts`, NULL)
                                                  ) AS `p26__value`
                                                FROM (
                                                  SELECT
                                                    *
                                                  FROM `assessments` AS `t8`
                                                  WHERE
                                                    `t8`.`ts` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                                ) AS `t24`
                                                GROUP BY
                                                  1
                                              ) AS `t36`
                                                ON `t66`.`account_id` = `t36`.`g_account_id`
                                            ) AS `t67`
                                          ) AS `t69`
                                          LEFT OUTER JOIN (
                                            SELECT
                                              `t23`.`account_id` AS `g_account_id`,
                                              COUNT(
                                                IF(
                                                  TRUE
                                                  AND (
                                                    `t23`.`departed_at` >= (
                                                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                                                    )
                                                  )
                                                  AND (
                                                    TRUE AND COALESCE(`t23`.`role` IN ('champion', 'sponsor'), FALSE)
                                                  ),
                                                  `t23`.`departed_at`,
                                                  NULL
                                                )
                                              ) AS `p25__rows`,
                                              MAX(
                                                IF(
                                                  TRUE
                                                  AND (
                                                    `t23`.`departed_at` >= (
                                                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                                                    )
                                                  )
                                                  AND (
                                                    TRUE AND COALESCE(`t23`.`role` IN ('champion', 'sponsor'), FALSE)
                                                  ),
                                                  `t23`.`departed_at`,
                                                  NULL
                                                )
                                              ) AS `p25__latest`
                                            FROM (
                                              SELECT
                                                *
                                              FROM `contacts` AS `t7`
                                              WHERE
                                                `t7`.`departed_at` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                                AND `t7`.`departed_at` >= (
                                                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                                                )
                                            ) AS `t23`
                                            GROUP BY
                                              1
                                          ) AS `t49`
                                            ON `t69`.`account_id` = `t49`.`g_account_id`
                                        ) AS `t70`
                                      ) AS `t72`
                                      LEFT OUTER JOIN (
                                        SELECT
                                          `t22`.`account_id` AS `g_account_id`,
                                          COUNT(
                                            IF(
                                              TRUE
                                              AND (
                                                TRUE
                                                AND COALESCE(`t22`.`role` IN ('champion', 'sponsor'), FALSE)
                                                AND (
                                                  FALSE
                                                  OR (
                                                    TRUE AND COALESCE(`t22`.`departed_at` IS NULL, FALSE)
                                                  )
                                                  OR (
                                                    TRUE
                                                    AND COALESCE(`t22`.`departed_at` >= CAST('2025-06-01T00:00:00' AS TIMESTAMP), FALSE)
                                                  )
                                                )
                                              ),
                                              `t22`.`started_at`,
                                              NULL
                                            )
                                          ) AS `p22__rows`,
                                          MAX(
                                            IF(
                                              TRUE
                                              AND (
                                                TRUE
                                                AND COALESCE(`t22`.`role` IN ('champion', 'sponsor'), FALSE)
                                                AND (
                                                  FALSE
                                                  OR (
                                                    TRUE AND COALESCE(`t22`.`departed_at` IS NULL, FALSE)
                                                  )
                                                  OR (
                                                    TRUE
                                                    AND COALESCE(`t22`.`departed_at` >= CAST('2025-06-01T00:00:00' AS TIMESTAMP), FALSE)
                                                  )
                                                )
                                              ),
                                              `t22`.`started_at`,
                                              NULL
                                            )
                                          ) AS `p22__latest`
                                        FROM (
                                          SELECT
                                            *
                                          FROM `contacts` AS `t7`
                                          WHERE
                                            `t7`.`started_at` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                        ) AS `t22`
                                        GROUP BY
                                          1
                                      ) AS `t59`
                                        ON `t72`.`account_id` = `t59`.`g_account_id`
                                    ) AS `t73`
                                  ) AS `t75`
                                  LEFT OUTER JOIN (
                                    SELECT
                                      `t21`.`account_id` AS `g_account_id`,
                                      COUNT(
                                        IF(
                                          TRUE
                                          AND (
                                            `t21`.`ts` >= (
                                              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '120' DAY
                                            )
                                          )
                                          AND (
                                            TRUE AND COALESCE(`t21`.`kind` = 'qbr', FALSE)
                                          ),
                                          `t21`.`ts`,
                                          NULL
                                        )
                                      ) AS `p21__rows`,
                                      MAX(
                                        IF(
                                          TRUE
                                          AND (
                                            `t21`.`ts` >= (
                                              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '120' DAY
                                            )
                                          )
                                          AND (
                                            TRUE AND COALESCE(`t21`.`kind` = 'qbr', FALSE)
                                          ),
                                          `t21`.`ts`,
                                          NULL
                                        )
                                      ) AS `p21__latest`,
                                      COUNT(
                                        IF(
                                          TRUE
                                          AND (
                                            `t21`.`ts` >= (
                                              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                                            )
                                          )
                                          AND (
                                            TRUE AND COALESCE(`t21`.`direction` = 'inbound', FALSE)
                                          ),
                                          `t21`.`ts`,
                                          NULL
                                        )
                                      ) AS `p23__rows`,
                                      MAX(
                                        IF(
                                          TRUE
                                          AND (
                                            `t21`.`ts` >= (
                                              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                                            )
                                          )
                                          AND (
                                            TRUE AND COALESCE(`t21`.`direction` = 'inbound', FALSE)
                                          ),
                                          `t21`.`ts`,
                                          NULL
                                        )
                                      ) AS `p23__latest`
                                    FROM (
                                      SELECT
                                        *
                                      FROM `interactions` AS `t6`
                                      WHERE
                                        `t6`.`ts` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                        AND `t6`.`ts` >= (
                                          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '120' DAY
                                        )
                                    ) AS `t21`
                                    GROUP BY
                                      1
                                  ) AS `t48`
                                    ON `t75`.`account_id` = `t48`.`g_account_id`
                                ) AS `t76`
                              ) AS `t78`
                              LEFT OUTER JOIN (
                                SELECT
                                  `t20`.`account_id` AS `g_account_id`,
                                  COUNT(
                                    IF(
                                      TRUE
                                      AND (
                                        `t20`.`due_at` >= (
                                          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                                        )
                                      )
                                      AND (
                                        TRUE
                                        AND (
                                          FALSE
                                          OR (
                                            TRUE AND COALESCE(`t20`.`status` = 'failed', FALSE)
                                          )
                                          OR (
                                            TRUE AND COALESCE(`t20`.`paid_at` > `t20`.`due_at`, FALSE)
                                          )
                                        )
                                      ),
                                      `t20`.`due_at`,
                                      NULL
                                    )
                                  ) AS `p17__rows`,
                                  MAX(
                                    IF(
                                      TRUE
                                      AND (
                                        `t20`.`due_at` >= (
                                          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                                        )
                                      )
                                      AND (
                                        TRUE
                                        AND (
                                          FALSE
                                          OR (
                                            TRUE AND COALESCE(`t20`.`status` = 'failed', FALSE)
                                          )
                                          OR (
                                            TRUE AND COALESCE(`t20`.`paid_at` > `t20`.`due_at`, FALSE)
                                          )
                                        )
                                      ),
                                      `t20`.`due_at`,
                                      NULL
                                    )
                                  ) AS `p17__latest`
                                FROM (
                                  SELECT
                                    *
                                  FROM `invoices` AS `t5`
                                  WHERE
                                    `t5`.`due_at` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                    AND `t5`.`due_at` >= (
                                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                                    )
                                ) AS `t20`
                                GROUP BY
                                  1
                              ) AS `t58`
                                ON `t78`.`account_id` = `t58`.`g_account_id`
                            ) AS `t79`
                          ) AS `t81`
                          LEFT OUTER JOIN (
                            SELECT
                              `t19`.`account_id` AS `g_account_id`,
                              COUNT(
                                IF(
                                  TRUE
                                  AND (
                                    `t19`.`issued_at` >= (
                                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
                                    )
                                  )
                                  AND (
                                    TRUE AND COALESCE(`t19`.`status` = 'failed', FALSE)
                                  ),
                                  `t19`.`issued_at`,
                                  NULL
                                )
                              ) AS `p18__rows`,
                              MAX(
                                IF(
                                  TRUE
                                  AND (
                                    `t19`.`issued_at` >= (
                                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
                                    )
                                  )
                                  AND (
                                    TRUE AND COALESCE(`t19`.`status` = 'failed', FALSE)
                                  ),
                                  `t19`.`issued_at`,
                                  NULL
                                )
                              ) AS `p18__latest`
                            FROM (
                              SELECT
                                *
                              FROM `invoices` AS `t5`
                              WHERE
                                `t5`.`issued_at` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                                AND `t5`.`issued_at` >= (
                                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
                                )
                            ) AS `t19`
                            GROUP BY
                              1
                          ) AS `t47`
                            ON `t81`.`account_id` = `t47`.`g_account_id`
                        ) AS `t82`
                      ) AS `t84`
                      LEFT OUTER JOIN (
                        SELECT
                          `t18`.`account_id` AS `g_account_id`,
                          COUNT(
                            IF(
                              TRUE
                              AND (
                                `t18`.`due_at` >= (
                                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                                )
                              )
                              AND (
                                TRUE
                                AND (
                                  FALSE
                                  OR (
                                    TRUE AND COALESCE(`t18`.`completed_at` IS NULL, FALSE)
                                  )
                                  OR (
                                    TRUE AND COALESCE(`t18`.`completed_at` > `t18`.`due_at`, FALSE)
                                  )
                                )
                              ),
                              `t18`.`due_at`,
                              NULL
                            )
                          ) AS `p24__rows`,
                          MAX(
                            IF(
                              TRUE
                              AND (
                                `t18`.`due_at` >= (
                                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                                )
                              )
                              AND (
                                TRUE
                                AND (
                                  FALSE
                                  OR (
                                    TRUE AND COALESCE(`t18`.`completed_at` IS NULL, FALSE)
                                  )
                                  OR (
                                    TRUE AND COALESCE(`t18`.`completed_at` > `t18`.`due_at`, FALSE)
                                  )
                                )
                              ),
                              `t18`.`due_at`,
                              NULL
                            )
                          ) AS `p24__latest`
                        FROM (
                          SELECT
                            *
                          FROM `milestones` AS `t4`
                          WHERE
                            `t4`.`due_at` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                            AND `t4`.`due_at` >= (
                              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                            )
                        ) AS `t18`
                        GROUP BY
                          1
                      ) AS `t57`
                        ON `t84`.`account_id` = `t57`.`g_account_id`
                    ) AS `t85`
                  ) AS `t87`
                  LEFT OUTER JOIN (
                    SELECT
                      `t17`.`account_id` AS `g_account_id`,
                      COUNT(
                        IF(
                          TRUE
                          AND (
                            `t17`.`ts` >= (
                              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '365' DAY
                            )
                          )
                          AND (
                            TRUE AND COALESCE(`t17`.`kind` = 'expanded', FALSE)
                          ),
                          `t17`.`ts`,
                          NULL
                        )
                      ) AS `p20__rows`,
                      MAX(
                        IF(
                          TRUE
                          AND (
                            `t17`.`ts` >= (
                              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '365' DAY
                            )
                          )
                          AND (
                            TRUE AND COALESCE(`t17`.`kind` = 'expanded', FALSE)
                          ),
                          `t17`.`ts`,
                          NULL
                        )
                      ) AS `p20__latest`,
                      COUNT(IF(TRUE AND (
                        `t17`.`kind` IS NOT NULL
                      ), `t17`.`ts`, NULL)) AS `p27__rows`,
                      MAX(IF(TRUE AND (
                        `t17`.`kind` IS NOT NULL
                      ), `t17`.`ts`, NULL)) AS `p27__latest`,
                      MAX_BY(
                        IF(TRUE AND (
                          `t17`.`kind` IS NOT NULL
                        ), `t17`.`kind`, NULL),
                        IF(TRUE AND (
                          `t17`.`kind` IS NOT NULL
                        ), `t17`.`ts`, NULL)
                      ) AS `p27__value`
                    FROM (
                      SELECT
                        *
                      FROM `outcomes` AS `t3`
                      WHERE
                        `t3`.`ts` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                    ) AS `t17`
                    GROUP BY
                      1
                  ) AS `t46`
                    ON `t87`.`account_id` = `t46`.`g_account_id`
                ) AS `t88`
              ) AS `t90`
              LEFT OUTER JOIN (
                SELECT
                  `t16`.`account_id` AS `g_account_id`,
                  COUNT(
                    IF(
                      TRUE
                      AND (
                        `t16`.`ts` >= (
                          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                        )
                      )
                      AND (
                        TRUE AND COALESCE(`t16`.`kind` = 'nps', FALSE)
                      )
                      AND (
                        `t16`.`score` IS NOT NULL AND NOT ISNAN(`t16`.`score`)
                      ),
                      `t16`.`ts`,
                      NULL
                    )
                  ) AS `p8__rows`,
                  MAX(
                    IF(
                      TRUE
                      AND (
                        `t16`.`ts` >= (
                          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                        )
                      )
                      AND (
                        TRUE AND COALESCE(`t16`.`kind` = 'nps', FALSE)
                      )
                      AND (
                        `t16`.`score` IS NOT NULL AND NOT ISNAN(`t16`.`score`)
                      ),
                      `t16`.`ts`,
                      NULL
                    )
                  ) AS `p8__latest`,
                  AVG(
                    IF(
                      TRUE
                      AND (
                        `t16`.`ts` >= (
                          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                        )
                      )
                      AND (
                        TRUE AND COALESCE(`t16`.`kind` = 'nps', FALSE)
                      )
                      AND (
                        `t16`.`score` IS NOT NULL AND NOT ISNAN(`t16`.`score`)
                      ),
                      `t16`.`score`,
                      NULL
                    )
                  ) AS `p8__value`,
                  COUNT(
                    IF(
                      TRUE
                      AND (
                        `t16`.`ts` >= (
                          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                        )
                      )
                      AND (
                        `t16`.`comment_sentiment` IS NOT NULL AND NOT ISNAN(`t16`.`comment_sentiment`)
                      ),
                      `t16`.`ts`,
                      NULL
                    )
                  ) AS `p9__rows`,
                  MAX(
                    IF(
                      TRUE
                      AND (
                        `t16`.`ts` >= (
                          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                        )
                      )
                      AND (
                        `t16`.`comment_sentiment` IS NOT NULL AND NOT ISNAN(`t16`.`comment_sentiment`)
                      ),
                      `t16`.`ts`,
                      NULL
                    )
                  ) AS `p9__latest`,
                  AVG(
                    IF(
                      TRUE
                      AND (
                        `t16`.`ts` >= (
                          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                        )
                      )
                      AND (
                        `t16`.`comment_sentiment` IS NOT NULL AND NOT ISNAN(`t16`.`comment_sentiment`)
                      ),
                      `t16`.`comment_sentiment`,
                      NULL
                    )
                  ) AS `p9__value`
                FROM (
                  SELECT
                    *
                  FROM `surveys` AS `t2`
                  WHERE
                    `t2`.`ts` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                    AND `t2`.`ts` >= (
                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
                    )
                ) AS `t16`
                GROUP BY
                  1
              ) AS `t51`
                ON `t90`.`account_id` = `t51`.`g_account_id`
            ) AS `t91`
          ) AS `t93`
          LEFT OUTER JOIN (
            SELECT
              `t15`.`account_id` AS `g_account_id`,
              COUNT(
                IF(
                  TRUE
                  AND (
                    `t15`.`closed_at` >= (
                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                    )
                  )
                  AND (
                    `t15`.`csat` IS NOT NULL AND NOT ISNAN(`t15`.`csat`)
                  ),
                  `t15`.`closed_at`,
                  NULL
                )
              ) AS `p0__rows`,
              MAX(
                IF(
                  TRUE
                  AND (
                    `t15`.`closed_at` >= (
                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                    )
                  )
                  AND (
                    `t15`.`csat` IS NOT NULL AND NOT ISNAN(`t15`.`csat`)
                  ),
                  `t15`.`closed_at`,
                  NULL
                )
              ) AS `p0__latest`,
              AVG(
                IF(
                  TRUE
                  AND (
                    `t15`.`closed_at` >= (
                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                    )
                  )
                  AND (
                    `t15`.`csat` IS NOT NULL AND NOT ISNAN(`t15`.`csat`)
                  ),
                  `t15`.`csat`,
                  NULL
                )
              ) AS `p0__value`,
              COUNT(
                IF(
                  TRUE
                  AND (
                    `t15`.`closed_at` >= (
                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                    )
                  )
                  AND (
                    `t15`.`ces` IS NOT NULL AND NOT ISNAN(`t15`.`ces`)
                  ),
                  `t15`.`closed_at`,
                  NULL
                )
              ) AS `p1__rows`,
              MAX(
                IF(
                  TRUE
                  AND (
                    `t15`.`closed_at` >= (
                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                    )
                  )
                  AND (
                    `t15`.`ces` IS NOT NULL AND NOT ISNAN(`t15`.`ces`)
                  ),
                  `t15`.`closed_at`,
                  NULL
                )
              ) AS `p1__latest`,
              AVG(
                IF(
                  TRUE
                  AND (
                    `t15`.`closed_at` >= (
                      CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                    )
                  )
                  AND (
                    `t15`.`ces` IS NOT NULL AND NOT ISNAN(`t15`.`ces`)
                  ),
                  `t15`.`ces`,
                  NULL
                )
              ) AS `p1__value`
            FROM (
              SELECT
                *
              FROM `tickets` AS `t1`
              WHERE
                `t1`.`closed_at` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
                AND `t1`.`closed_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                )
            ) AS `t15`
            GROUP BY
              1
          ) AS `t38`
            ON `t93`.`account_id` = `t38`.`g_account_id`
        ) AS `t94`
      ) AS `t96`
      LEFT OUTER JOIN (
        SELECT
          `t14`.`account_id` AS `g_account_id`,
          COUNT(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
                )
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p2__rows`,
          MAX(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
                )
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p2__latest`,
          COUNT(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '60' DAY
                )
              )
              AND (
                `t14`.`opened_at` < (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
                )
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p3__rows`,
          MAX(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '60' DAY
                )
              )
              AND (
                `t14`.`opened_at` < (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
                )
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p3__latest`,
          COUNT(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                )
              )
              AND (
                TRUE AND COALESCE(`t14`.`reopened` = TRUE, FALSE)
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p4__rows`,
          MAX(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                )
              )
              AND (
                TRUE AND COALESCE(`t14`.`reopened` = TRUE, FALSE)
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p4__latest`,
          COUNT(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                )
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p5__rows`,
          MAX(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                )
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p5__latest`,
          COUNT(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                )
              )
              AND (
                TRUE AND COALESCE(`t14`.`escalated` = TRUE, FALSE)
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p6__rows`,
          MAX(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                )
              )
              AND (
                TRUE AND COALESCE(`t14`.`escalated` = TRUE, FALSE)
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p6__latest`,
          COUNT(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                )
              )
              AND (
                `t14`.`sla_met` IS NOT NULL
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p7__rows`,
          MAX(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                )
              )
              AND (
                `t14`.`sla_met` IS NOT NULL
              ),
              `t14`.`opened_at`,
              NULL
            )
          ) AS `p7__latest`,
          AVG(
            IF(
              TRUE
              AND (
                `t14`.`opened_at` >= (
                  CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
                )
              )
              AND (
                `t14`.`sla_met` IS NOT NULL
              ),
              IF(`t14`.`sla_met`, 1.0, 0.0),
              NULL
            )
          ) AS `p7__value`
        FROM (
          SELECT
            *
          FROM `tickets` AS `t1`
          WHERE
            `t1`.`opened_at` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
            AND `t1`.`opened_at` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
            )
        ) AS `t14`
        GROUP BY
          1
      ) AS `t44`
        ON `t96`.`account_id` = `t44`.`g_account_id`
    ) AS `t97`
  ) AS `t99`
  LEFT OUTER JOIN (
    SELECT
      `t13`.`account_id` AS `g_account_id`,
      COUNT(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            TRUE AND COALESCE(`t13`.`event` = 'login', FALSE)
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p10__rows`,
      MAX(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            TRUE AND COALESCE(`t13`.`event` = 'login', FALSE)
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p10__latest`,
      COUNT(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            TRUE AND COALESCE(`t13`.`event` <> 'login', FALSE)
          )
          AND (
            `t13`.`event` IS NOT NULL
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p11__rows`,
      MAX(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            TRUE AND COALESCE(`t13`.`event` <> 'login', FALSE)
          )
          AND (
            `t13`.`event` IS NOT NULL
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p11__latest`,
      COUNT(
        DISTINCT IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            TRUE AND COALESCE(`t13`.`event` <> 'login', FALSE)
          )
          AND (
            `t13`.`event` IS NOT NULL
          ),
          `t13`.`event`,
          NULL
        )
      ) AS `p11__value`,
      COUNT(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
            )
          )
          AND (
            TRUE AND COALESCE(`t13`.`event` = 'login', FALSE)
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p12__rows`,
      MAX(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
            )
          )
          AND (
            TRUE AND COALESCE(`t13`.`event` = 'login', FALSE)
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p12__latest`,
      COUNT(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p13__rows`,
      MAX(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p13__latest`,
      COUNT(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '60' DAY
            )
          )
          AND (
            `t13`.`ts` < (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p14__rows`,
      MAX(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '60' DAY
            )
          )
          AND (
            `t13`.`ts` < (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p14__latest`,
      COUNT(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
            )
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p15__rows`,
      MAX(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
            )
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p15__latest`,
      COUNT(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            `t13`.`user_id` IS NOT NULL
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p16__rows`,
      MAX(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            `t13`.`user_id` IS NOT NULL
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p16__latest`,
      COUNT(
        DISTINCT IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            `t13`.`user_id` IS NOT NULL
          ),
          `t13`.`user_id`,
          NULL
        )
      ) AS `p16__value`,
      COUNT(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            `t13`.`quantity` IS NOT NULL AND NOT ISNAN(`t13`.`quantity`)
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p19__rows`,
      MAX(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            `t13`.`quantity` IS NOT NULL AND NOT ISNAN(`t13`.`quantity`)
          ),
          `t13`.`ts`,
          NULL
        )
      ) AS `p19__latest`,
      SUM(
        IF(
          TRUE
          AND (
            `t13`.`ts` >= (
              CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
            )
          )
          AND (
            `t13`.`quantity` IS NOT NULL AND NOT ISNAN(`t13`.`quantity`)
          ),
          `t13`.`quantity`,
          NULL
        )
      ) AS `p19__value`
    FROM (
      SELECT
        *
      FROM `usage_events` AS `t0`
      WHERE
        `t0`.`ts` < CAST('2025-06-01T00:00:00' AS TIMESTAMP)
        AND `t0`.`ts` >= (
          CAST('2025-06-01T00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
        )
    ) AS `t13`
    GROUP BY
      1
  ) AS `t50`
    ON `t99`.`account_id` = `t50`.`g_account_id`
) AS `t100`
