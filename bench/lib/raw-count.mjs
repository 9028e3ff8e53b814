// Counting in a frame's text without parsing it: the load generator reads large replies (a
// catch-up, a snapshot) faster than JSON.parse could, so the server and not the load generator
// bounds the figure. The needles are key sequences that only appear where the encoder writes them
// (inside a JSON string every quote is escaped), for the bench's own data (no object values).
export function occurrences(text, needle) {
  let n = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}
