import type { Manifest } from './manifest.js';

/**
 * What a plug-in is called in its log lines, so a host running many can tell them apart: the
 * `name` option, else the main module's manifest name (unless it is the default "main"), else its
 * file or URL name without `.wasm`, else the module name in its `name` section, else "plugin".
 */
export function pluginName(option: string | undefined, manifest: Manifest, main: number, module: WebAssembly.Module): string {
  if (option !== undefined) {
    if (typeof option !== 'string' || option === '') throw new TypeError(`name must be a non-empty string, got ${JSON.stringify(option)}`);
    return option;
  }
  const source = manifest.wasm[main];
  if (source?.name !== undefined && source.name !== 'main') return source.name;
  const location = source?.path ?? source?.url;
  if (location !== undefined) {
    const file = location.split(/[?#]/)[0]!.split(/[/\\]/).pop() ?? '';
    const stem = file.replace(/\.wasm$/i, '');
    if (stem !== '') return stem;
  }
  // clang names a module after its output file
  return nameSectionModuleName(module)?.replace(/\.wasm$/i, '') || 'plugin';
}

/** The module name subsection (id 0) of the `name` custom section; undefined when absent or malformed. */
function nameSectionModuleName(module: WebAssembly.Module): string | undefined {
  const section = WebAssembly.Module.customSections(module, 'name')[0];
  if (section === undefined) return undefined;
  const bytes = new Uint8Array(section);
  let at = 0;
  const leb = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = bytes[at++];
      if (byte === undefined) return -1;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return -1;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    if (size < 0 || at + size > bytes.length) return undefined;
    if (id === 0) {
      const length = leb();
      if (length <= 0 || at + length > bytes.length) return undefined;
      return new TextDecoder().decode(bytes.subarray(at, at + length));
    }
    at += size;
  }
  return undefined;
}
