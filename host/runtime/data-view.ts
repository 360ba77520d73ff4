// One DataView per ArrayBuffer, over all of it: code that writes at an offset into a view of a
// buffer (a checkpoint area in the core's memory) needs no DataView per call. Write at
// `view.byteOffset + offset`. A WebAssembly memory that grows gets a new buffer, and with it
// a new DataView; the old pair is collected together (the map is weak).
const views = new WeakMap<ArrayBufferLike, DataView>();

export function wholeView(buf: ArrayBufferLike): DataView {
  let v = views.get(buf);
  if (!v) { v = new DataView(buf); views.set(buf, v); }
  return v;
}
