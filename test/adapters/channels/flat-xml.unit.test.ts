import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { buildFlatXml, parseFlatXml } from '../../../adapters/channels/wechat/wechat-v2.xml';

/**
 * parseFlatXml reads the shape channels send in one pass and hands everything else to
 * fast-xml-parser: both must read every document the same way. The reference here is the full
 * parser alone, with the module's options and its checks.
 */
const parser = new XMLParser({
  parseTagValue: false,
  processEntities: true,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: false,
});
const reference = (text: string): Record<string, string> | null => {
  if (/<!(?!\[CDATA\[)/i.test(text) || XMLValidator.validate(text) !== true) return null;
  let document: Record<string, unknown>;
  try {
    document = parser.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const element = document['xml'];
  if (typeof element !== 'object' || element === null || Array.isArray(element)) return null;
  const entries = Object.entries(element);
  if (entries.length > 64 || entries.some(([, value]) => typeof value !== 'string')) return null;
  return Object.fromEntries(entries) as Record<string, string>;
};
const read = (text: string): Record<string, string> | null => {
  const parsed = parseFlatXml(text);
  return parsed.ok ? parsed.fields : null;
};

const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,11}$/);
const value = fc.oneof(
  fc.string(),
  fc.constantFrom('', ' ', 'a]]>b', ']]>', 'x<y', 'a&amp;b', '&lt;', 'line\nbreak', 'cr\r\nlf'),
);

describe('parseFlatXml: the one-pass reader agrees with the full parser', () => {
  it('on documents written by buildFlatXml (CDATA values, any text)', () => {
    fc.assert(
      fc.property(fc.dictionary(name, value, { minKeys: 1, maxKeys: 20 }), (params) => {
        const text = buildFlatXml(params);
        expect(read(text)).toEqual(reference(text));
      }),
      { numRuns: 500 },
    );
  });

  it('on hand-made variants: plain text, entities, whitespace, nesting, repeats, empty roots', () => {
    const documents = [
      '<xml><a>plain</a><b><![CDATA[c]]></b></xml>',
      '<xml><a>pre<![CDATA[x]]>post</a></xml>',
      '<xml><a>t&amp;u</a></xml>',
      '<xml><a>t&lt;u&gt;</a></xml>',
      '<xml>\n<a>x</a>\n</xml>',
      '<xml><a>x</a><a>y</a></xml>',
      '<xml><a><b>x</b></a></xml>',
      '<xml><a x="1">v</a></xml>',
      '<xml><a/></xml>',
      '<xml></xml>',
      '<xml>text</xml>',
      '<xml><a></a></xml>',
      '<xml><a>x</ab></xml>',
      '<xml><a><![CDATA[x]]></a>',
      '<?xml version="1.0"?><xml><a>v</a></xml>',
      '<xml><constructor>v</constructor></xml>',
      '<xml><a>v</a></xml> ',
      '<other><a>v</a></other>',
    ];
    for (const text of documents)
      expect({ text, fields: read(text) }).toEqual({ text, fields: reference(text) });
  });
});
