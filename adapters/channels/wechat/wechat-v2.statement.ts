import { randomBytes } from 'node:crypto';
import { UnavailableError } from '../../../domain/ports/event-store.port';
import type { StatementSource } from '../../../domain/ports/reconciliation-store.port';
import { addDays, localDayOf } from '../../../domain/reconciliation/daily-schedule';
import type { StatementRow } from '../../../domain/reconciliation/reconciliation';
import { parseStatementCsv } from '../../../domain/reconciliation/statement-csv';
import type { WechatV2Credentials } from './wechat-v2.verifier';
import { buildFlatXml, parseFlatXml, signWechatV2 } from './wechat-v2.xml';

/** WeChat Pay's bill days are Beijing days. */
const BILL_TIME_ZONE = 'Asia/Shanghai';
/** A busy day's bill runs to megabytes; more than this is refused. */
const BILL_BYTES_MAX = 64 * 1024 * 1024;
/** WeChat's answer for a day without a single transaction. */
const NO_BILL = 'No Bill Exist';

type WechatV2StatementOptions = WechatV2Credentials & {
  /** https://api.mch.weixin.qq.com in production; a local fake in tests. */
  baseUrl: string;
  timeoutMs: number;
};

/** One Beijing day's trade bill (`/pay/downloadbill`, `bill_type=ALL`), parsed. */
const downloadBill = async (
  options: WechatV2StatementOptions,
  day: string,
): Promise<StatementRow[]> => {
  const params = {
    appid: options.appId,
    mch_id: options.mchId,
    nonce_str: randomBytes(16).toString('hex'),
    sign_type: options.signType,
    bill_date: day.replaceAll('-', ''),
    bill_type: 'ALL',
  };
  const body = buildFlatXml({
    ...params,
    sign: signWechatV2(params, options.apiKey, options.signType),
  });
  const answer = await fetch(`${options.baseUrl}/pay/downloadbill`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml' },
    body,
    signal: AbortSignal.timeout(options.timeoutMs),
  }).catch((error: unknown) => {
    throw new UnavailableError(`wechat downloadbill ${day}: ${String(error)}`, { cause: error });
  });
  const text = await answer.text();
  if (answer.status !== 200 || text.length > BILL_BYTES_MAX)
    throw new UnavailableError(`wechat downloadbill ${day}: HTTP ${answer.status}`);
  if (text.trimStart().startsWith('<xml')) {
    // An error answer is XML; the bill itself is CSV text.
    const parsed = parseFlatXml(text);
    const message = parsed.ok ? (parsed.fields['return_msg'] ?? 'FAIL') : 'unreadable answer';
    if (message === NO_BILL) return [];
    throw new Error(`wechat downloadbill ${day}: ${message}`);
  }
  const statement = parseStatementCsv(text, 'wechat');
  if (!statement.ok)
    throw new Error(`wechat bill ${day} line ${statement.line}: ${statement.reason}`);
  return statement.rows;
};

/**
 * WeChat Pay v2's statement of a period: the trade bill of every Beijing day the period touches,
 * its rows kept when their time falls in the period. Refunds appear as the payment's `refunded`
 * rows (the bill's refund columns name no refund of ours): WeChat refund-level repairs are not
 * made, refundRows is empty.
 */
export const createWechatV2StatementSource = (
  options: WechatV2StatementOptions,
): StatementSource => ({
  channel: 'wechat',
  statementRows: async ({ fromMs, toMs }) => {
    const rows: StatementRow[] = [];
    const lastDay = localDayOf(toMs - 1, BILL_TIME_ZONE);
    for (let day = localDayOf(fromMs, BILL_TIME_ZONE); day <= lastDay; day = addDays(day, 1))
      rows.push(...(await downloadBill(options, day)));
    return rows.filter((row) => {
      const atMs = Date.parse(row.occurredAt);
      return atMs >= fromMs && atMs < toMs;
    });
  },
  refundRows: async () => [],
});
