export declare const GLOBAL_TYPE_CODES: { i32: 0; i64: 1; f32: 2; f64: 3 };
export declare function exportMutableGlobals(bytes: Uint8Array, label?: string): { binary: Uint8Array; globals: number };
export declare function compileComponent(entry: string, label?: string): Promise<{ binary: Uint8Array; globals: number }>;
export declare function listComponents(filters?: string[]): { name: string; version: string; dir: string }[];
export declare function buildComponent(c: { name: string; version: string; dir: string }): Promise<{ file: string; bytes: number; globals: number }>;
