import { createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * WeChat Pay API v2: flat XML documents signed over their non-empty parameters except `sign`,
 * sorted by key, joined `k=v&…&key=<API key>`, MD5 or HMAC-SHA256 (per `sign_type`), upper hex.
 */
export type WechatV2SignType = 'MD5' | 'HMAC-SHA256';
export type FlatXml = Record<string, string>;

const FIELD_COUNT_MAX = 64;
const parser = new XMLParser({
  parseTagValue: false,
  processEntities: true, // Only the predefined ones: a DOCTYPE, which could declare more, is refused first.
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: false,
});

/** Names are compared by UTF-16 code unit, as WeChat's reference implementations sort them. */
const wechatV2SignatureBase = (params: Readonly<FlatXml>, apiKey: string): string => {
  const names = Object.keys(params).sort();
  let base = '';
  for (const name of names) {
    const value = params[name];
    if (name === 'sign' || value === undefined || value === '') continue;
    base += `${name}=${value}&`;
  }
  return `${base}key=${apiKey}`;
};

export const signWechatV2 = (
  params: Readonly<FlatXml>,
  apiKey: string,
  signType: WechatV2SignType,
): string => {
  const base = wechatV2SignatureBase(params, apiKey);
  const digest =
    signType === 'MD5'
      ? createHash('md5').update(base, 'utf8')
      : createHmac('sha256', apiKey).update(base, 'utf8');
  return digest.digest('hex').toUpperCase();
};

export const verifyWechatV2Sign = (
  params: Readonly<FlatXml>,
  apiKey: string,
  signType: WechatV2SignType,
): boolean => {
  const presented = Buffer.from(params['sign'] ?? '');
  const expected = Buffer.from(signWechatV2(params, apiKey, signType));
  return presented.length === expected.length && timingSafeEqual(presented, expected);
};

const cdata = (value: string): string => `<![CDATA[${value.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;

export const buildFlatXml = (params: Readonly<FlatXml>, root = 'xml'): string =>
  `<${root}>${Object.entries(params)
    .map(([name, value]) => `<${name}>${cdata(value)}</${name}>`)
    .join('')}</${root}>`;

const CDATA_OPEN = '<![CDATA[';
const CDATA_CLOSE = ']]>';
/** A child's opening tag without attributes, read at a position (sticky). */
const OPENING_TAG = /[A-Za-z_][A-Za-z0-9_]*>/y;

/**
 * The fields of a document in the exact shape channels send and buildFlatXml writes, read in one
 * pass: `<root>`, then only `<name>…</name>` children, each holding CDATA sections and plain text
 * (no `<`, `&`, `>`), no whitespace between them, no repeated name, no carriage return. Anything
 * else (null) goes to the full parser, so this never accepts what it would refuse, nor reads a
 * document differently: it only skips the validator's and parser's two passes (about 90 % of a
 * v2 callback's verification time, the HMAC included).
 */
const strictFlatFields = (text: string, root: string): FlatXml | null => {
  const open = `<${root}>`;
  const close = `</${root}>`;
  if (!text.startsWith(open) || !text.endsWith(close) || text.includes('\r')) return null;
  const end = text.length - close.length;
  const fields: FlatXml = {};
  let count = 0;
  let at = open.length;
  while (at < end) {
    if (text.charCodeAt(at) !== 0x3c) return null; // '<'
    OPENING_TAG.lastIndex = at + 1;
    const tag = OPENING_TAG.exec(text);
    if (tag === null) return null;
    const name = tag[0].slice(0, -1);
    const closing = `</${name}>`;
    at = OPENING_TAG.lastIndex;
    let value = '';
    while (!text.startsWith(closing, at)) {
      if (text.startsWith(CDATA_OPEN, at)) {
        const stop = text.indexOf(CDATA_CLOSE, at + CDATA_OPEN.length);
        if (stop < 0 || stop + CDATA_CLOSE.length > end) return null;
        value += text.slice(at + CDATA_OPEN.length, stop);
        at = stop + CDATA_CLOSE.length;
        continue;
      }
      const next = text.indexOf('<', at);
      if (next <= at || next > end) return null;
      const run = text.slice(at, next);
      if (/[&>]/.test(run)) return null;
      value += run;
      at = next;
    }
    at += closing.length;
    count += 1;
    if (name in fields || count > FIELD_COUNT_MAX) return null;
    fields[name] = value;
  }
  // An empty root is the full parser's refusal ('root element missing'), not an empty document.
  return at === end && count > 0 ? fields : null;
};

/**
 * A flat XML document's fields, or the reason it is refused. Any `<!` other than CDATA (DOCTYPE,
 * ENTITY) is refused before parsing: no external entities, no entity expansion.
 */
export const parseFlatXml = (
  text: string,
  root = 'xml',
): { ok: true; fields: FlatXml } | { ok: false; reason: string } => {
  if (/<!(?!\[CDATA\[)/i.test(text))
    return { ok: false, reason: 'DTDs and entity declarations are refused' };
  const strict = strictFlatFields(text, root);
  if (strict !== null) return { ok: true, fields: strict };
  if (XMLValidator.validate(text) !== true)
    return { ok: false, reason: 'body is not well-formed XML' };
  let document: Record<string, unknown>;
  try {
    document = parser.parse(text) as Record<string, unknown>;
  } catch (error: unknown) {
    // The parser's own refusals, e.g. a tag named `constructor` (prototype pollution).
    return { ok: false, reason: `body refused by the XML parser: ${String(error)}` };
  }
  const element = document[root];
  if (typeof element !== 'object' || element === null || Array.isArray(element))
    return { ok: false, reason: `root element <${root}> missing` };
  const entries = Object.entries(element);
  if (entries.length > FIELD_COUNT_MAX) return { ok: false, reason: 'too many fields' };
  const fields: FlatXml = {};
  for (const [name, value] of entries) {
    if (typeof value !== 'string')
      return { ok: false, reason: `field ${name} is not a single text value` };
    fields[name] = value;
  }
  return { ok: true, fields };
};

/** v2 refund notifications carry `req_info`: AES-256-ECB with key = lower-case md5 hex of the API key. */
export const decryptRefundInfo = (reqInfo: string, apiKey: string): string | null => {
  try {
    const key = Buffer.from(createHash('md5').update(apiKey, 'utf8').digest('hex'), 'utf8');
    const decipher = createDecipheriv('aes-256-ecb', key, null);
    return Buffer.concat([
      decipher.update(Buffer.from(reqInfo, 'base64')),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return null;
  }
};

const CONTENT_TYPE = 'application/xml; charset=utf-8';
/** The success answer never changes: written once. */
const ACCEPTED = {
  contentType: CONTENT_TYPE,
  body: buildFlatXml({ return_code: 'SUCCESS', return_msg: 'OK' }),
};

export const wechatV2Acknowledgement = (accepted: boolean, message: string) =>
  accepted
    ? ACCEPTED
    : {
        contentType: CONTENT_TYPE,
        body: buildFlatXml({ return_code: 'FAIL', return_msg: message }),
      };
