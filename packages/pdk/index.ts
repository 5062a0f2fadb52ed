// AssemblyScript resolves "@tenon/pdk" to this file.
export * from "./assembly/index";
