// AssemblyScript resolves "@tenon/pdk/json" to this file.
export * from "./assembly/json";
