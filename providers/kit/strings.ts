/**
 * The same text as one flat string. A template literal is a tree of V8 "cons" strings (one node
 * per concatenation); a render keeps hundreds of thousands of such texts alive until its output
 * (rule names, keys, summaries, descriptions), and reading a character makes V8 flatten the tree
 * in place, so the garbage collector moves one string per text instead of a dozen nodes, and a
 * later hash or sort of the text reads it without flattening it first.
 */
export function flat(text: string): string {
  // Stored, so that no optimizing compiler drops the read as dead code.
  flatRead.last = text.charCodeAt(0);
  return text;
}
const flatRead = { last: 0 };
