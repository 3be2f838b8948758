// RFC 8216 §4.2 attribute lists: `KEY=value,KEY="quoted, with commas"`. Values are kept raw (with
// their quotes) so a rewrite changes only what it means to change.

export type AttributeList = [name: string, rawValue: string][];

const ATTRIBUTE = /\s*([A-Z0-9-]+)=("[^"\r\n]*"|[^,]*)\s*(?:,|$)/gy;

export function parseAttributeList(text: string): AttributeList {
  const attributes: AttributeList = [];
  ATTRIBUTE.lastIndex = 0;
  while (ATTRIBUTE.lastIndex < text.length) {
    const start = ATTRIBUTE.lastIndex;
    const match = ATTRIBUTE.exec(text);
    if (!match || ATTRIBUTE.lastIndex === start) throw new Error(`malformed attribute list near "${text.slice(start, start + 40)}"`);
    attributes.push([match[1]!, match[2]!.trim()]);
  }
  return attributes;
}

export function serializeAttributeList(attributes: AttributeList): string {
  return attributes.map(([name, value]) => `${name}=${value}`).join(',');
}

/** The value of an attribute without its quotes, if present. */
export function attributeValue(attributes: AttributeList, name: string): string | undefined {
  const raw = attributes.find(([key]) => key === name)?.[1];
  return raw === undefined ? undefined : raw.replace(/^"(.*)"$/, '$1');
}

/** A copy with `name` set to the quoted `value` (replaced in place, or appended). */
export function withQuotedAttribute(attributes: AttributeList, name: string, value: string): AttributeList {
  if (/["\r\n]/.test(value)) throw new Error(`attribute ${name} cannot hold a quote or newline`);
  const quoted = `"${value}"`;
  const copy = attributes.map(([key, raw]): [string, string] => [key, key === name ? quoted : raw]);
  if (!copy.some(([key]) => key === name)) copy.push([name, quoted]);
  return copy;
}
