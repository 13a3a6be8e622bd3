// Text and attribute values of the SVG go through one escape, so a lane named `<b>` stays text.

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Whether XML 1.0 allows the code point at all (tab, LF, CR, and everything from U+0020 but surrogates and U+FFFE/F). */
function isXmlChar(code: number): boolean {
  if (code < 0x20) return code === 0x09 || code === 0x0a || code === 0x0d;
  if (code >= 0xd800 && code <= 0xdfff) return false;
  return code !== 0xfffe && code !== 0xffff;
}

/**
 * Escapes the five XML special characters; safe both in text and in quoted attribute values.
 * Characters XML 1.0 forbids outright (control characters other than tab, LF, CR, and lone
 * surrogates) become U+FFFD, as no escape could make them valid.
 *
 * @example escapeXml(`a<b & "c"`) // 'a&lt;b &amp; &quot;c&quot;'
 */
export function escapeXml(text: string): string {
  let out = '';
  // for..of walks code points, so a valid surrogate pair arrives whole and only lone halves are replaced.
  for (const char of text) {
    const code = char.codePointAt(0)!;
    out += ENTITIES[char] ?? (isXmlChar(code) ? char : '\uFFFD');
  }
  return out;
}
