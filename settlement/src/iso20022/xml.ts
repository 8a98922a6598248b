import Builder from 'fast-xml-builder';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** A parsed XML element: child elements by local name (always lists), text, attributes. */
export type XmlElement = Readonly<Record<string, unknown>>;

const textKey = '#text';
const attributePrefix = '@_';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: attributePrefix,
  textNodeName: textKey,
  removeNSPrefix: true,
  // Identifiers such as `000123` and amounts such as `10.50` must stay exactly as written.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  alwaysCreateTextNode: true,
  // Every element as a list: one shape to read, whatever the file's repetitions.
  isArray: (_name, _path, _isLeaf, isAttribute) => !isAttribute,
});

const builder = new Builder({
  processEntities: true,
  ignoreAttributes: false,
  attributeNamePrefix: attributePrefix,
  textNodeName: textKey,
  format: true,
  indentBy: '  ',
  suppressEmptyNode: false,
});

/**
 * Serialises a document tree as UTF-8 XML with a declaration. Text and attribute
 * values are escaped by the builder, so names such as `Smith & <Sons>` are carried as
 * data, never as markup.
 *
 * @throws never for trees built from strings.
 */
export function buildXml(root: Record<string, unknown>): string {
  return builder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' }, ...root });
}

/**
 * Parses an XML document into {@link XmlElement}s and returns its root element and the
 * root's namespace. Documents with a DTD are refused: no bank file has one, and
 * entity definitions are the usual way to attack a parser.
 *
 * @throws Error with the line and column of the first well-formedness problem.
 */
export function parseXml(xml: string): {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly root: XmlElement;
} {
  if (/<!DOCTYPE/i.test(xml)) throw new Error('the document has a DTD (<!DOCTYPE>), which bank files never have');
  // The parser accepts unclosed and mismatched tags, so well-formedness is checked first. The
  // validator's designated successor brings a second complete parser stack; this one still ships.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const verdict = XMLValidator.validate(xml);
  if (verdict !== true) {
    throw new Error(`not well-formed XML at line ${verdict.err.line}, column ${verdict.err.col}: ${verdict.err.msg}`);
  }
  const parsed = parser.parse(xml) as unknown;
  const roots = isElement(parsed) ? Object.keys(parsed).filter((key) => key !== '?xml') : [];
  const name = roots[0];
  if (roots.length !== 1 || name === undefined || !isElement(parsed))
    throw new Error('the document has no single root element');
  const root = children(parsed, name)[0];
  if (root === undefined) throw new Error('the document has no single root element');
  return { name, namespace: rootNamespace(xml), root };
}

/**
 * The namespace of the root element, read from its start tag because the parser drops
 * namespace declarations along with prefixes. Works for `<Document xmlns="…">` and for
 * prefixed roots such as `<ns2:Document xmlns:ns2="…">`.
 */
function rootNamespace(xml: string): string | undefined {
  const start = /<([A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*\/?>/.exec(xml);
  if (start === null) return undefined;
  const prefix = start[1]?.slice(0, -1);
  const declaration = prefix === undefined ? 'xmlns' : `xmlns:${prefix}`;
  for (const match of (start[2] ?? '').matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (match[1] === declaration) return match[2] ?? match[3];
  }
  return undefined;
}

function isElement(value: unknown): value is XmlElement {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** All child elements of `element` with local name `name`, in document order. @throws never. */
export function children(element: XmlElement | undefined, name: string): XmlElement[] {
  const value = element?.[name];
  return Array.isArray(value) ? value.filter(isElement) : [];
}

/** The first child element named `name`, if any. @throws never. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return children(element, name)[0];
}

/** The child element at the end of `path`, following the first match at each step. @throws never. */
export function at(element: XmlElement | undefined, ...path: readonly string[]): XmlElement | undefined {
  return path.reduce<XmlElement | undefined>((node, name) => child(node, name), element);
}

/** The text of `element`, or `undefined` when it is absent or empty. @throws never. */
export function text(element: XmlElement | undefined): string | undefined {
  const value = element?.[textKey];
  if (typeof value !== 'string' || value === '') return undefined;
  return value;
}

/** The text of the element at the end of `path`, or `undefined`. @throws never. */
export function textAt(element: XmlElement | undefined, ...path: readonly string[]): string | undefined {
  return text(at(element, ...path));
}

/** An attribute of `element`, or `undefined`. @throws never. */
export function attribute(element: XmlElement | undefined, name: string): string | undefined {
  const value = element?.[attributePrefix + name];
  return typeof value === 'string' ? value : undefined;
}
