// The AssemblyScript transform behind @tenon/pdk's strict JSON input. json-as generates decoders
// that trust their input (an f64 read into an i32 wraps, a string read as a number gives 0, a
// missing key takes the default), so this transform gives every `@json` class a
// `__TENON_CHECK` method that names each field with its declared type. The PDK's checker
// (assembly/strict.ts) walks the input against those types before json-as decodes it.
//
// The generated method takes its checker as a type parameter, so the plug-in's file needs no
// import of the PDK for it to compile. List it after json-as: "transform": ["json-as", "@tenon/pdk/transform"].
import { CommonFlags, NodeKind, Parser, Source, Tokenizer } from 'assemblyscript/dist/assemblyscript.js';
import { Transform } from 'assemblyscript/dist/transform.js';

const text = (node) => node.range.source.text.substring(node.range.start, node.range.end);
const decorator = (node, name) => (node.decorators ?? []).find((d) => d.name.kind === NodeKind.Identifier && d.name.text === name);

function checkMethod(klass) {
  const lines = [];
  for (const member of klass.members) {
    if (member.kind !== NodeKind.FieldDeclaration || member.is(CommonFlags.Static)) continue;
    if (decorator(member, 'omit')) continue;
    if (member.type == null)
      throw new Error(`@tenon/pdk/transform: field "${member.name.text}" of ${klass.name.text} needs a declared type`);
    const alias = decorator(member, 'alias');
    const key = alias?.args?.[0]?.value ?? member.name.text;
    const optional = decorator(member, 'optional') != null;
    lines.push(`checker.field<${text(member.type)}>(${JSON.stringify(key)}, ${optional});`);
  }
  const inherited = klass.extendsType ? 'super.__TENON_CHECK<C>(checker);' : '';
  return `__TENON_CHECK<C>(checker: C): void { ${inherited} ${lines.join(' ')} }`;
}

function visit(statements) {
  for (const statement of statements) {
    if (statement.kind === NodeKind.NamespaceDeclaration) visit(statement.members);
    if (statement.kind !== NodeKind.ClassDeclaration) continue;
    if (!decorator(statement, 'json') && !decorator(statement, 'serializable')) continue;
    if (statement.members.some((m) => m.name?.text === '__TENON_CHECK')) continue;
    const code = checkMethod(statement);
    const tokenizer = new Tokenizer(new Source(0, statement.range.source.normalizedPath, code));
    const method = new Parser().parseClassMember(tokenizer, statement);
    if (method == null) throw new Error(`@tenon/pdk/transform: could not generate the check of ${statement.name.text}: ${code}`);
    statement.members.push(method);
  }
}

export default class TenonStrictJson extends Transform {
  afterParse(parser) {
    for (const source of parser.sources) {
      // json-as's own classes decode dynamic values and have no fixed fields to check
      if (source.internalPath.startsWith('~lib/json-as/')) continue;
      visit(source.statements);
    }
  }
}
