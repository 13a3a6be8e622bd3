// Builds SVG markup with every attribute value escaped, so escaping cannot be forgotten at a call site.
import { escapeXml } from './escape-xml.ts';

/** Attribute values: numbers are rounded to 0.01 px (enough for a screen, far shorter), undefined is left out. */
export type Attributes = Readonly<Record<string, string | number | undefined>>;

/** A coordinate with at most two decimals, without float noise. @example px(1 / 3) // '0.33' */
export function px(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/**
 * `<name attrs/>`, or `<name attrs>children</name>` when there are children. Children are
 * markup: pass text through {@link escapeXml} (or use {@link textElement}).
 *
 * @example element('rect', { x: 1, width: 2.5 }) // '<rect x="1" width="2.5"/>'
 */
export function element(name: string, attributes: Attributes, ...children: string[]): string {
  const attrs = Object.entries(attributes)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? px(v) : escapeXml(String(v))}"`)
    .join('');
  return children.length === 0 ? `<${name}${attrs}/>` : `<${name}${attrs}>${children.join('')}</${name}>`;
}

/** An element holding escaped text. @example textElement('title', {}, 'a<b') // '<title>a&lt;b</title>' */
export function textElement(name: string, attributes: Attributes, text: string): string {
  return element(name, attributes, escapeXml(text));
}
