// Compile KQL with Microsoft's Kusto semantic analyzer (@kusto/language-service-next).
// stdin:  {"tables": {"<Table>": "(Col:type, ...)"}, "queries": {"<id>": "<kql>"}}
// stdout: {"<id>": [{"code", "severity", "message", "text"}]}  (every diagnostic the analyzer reports)
"use strict";
require("@kusto/language-service-next/bridge.min.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");

const K = Kusto.Language;
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const tables = Object.entries(input.tables).map(
  ([name, schema]) => new K.Symbols.TableSymbol.$ctor7(name, schema, null)
);
const globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.$ctor2("workspace", null, tables));
const out = {};
for (const [id, text] of Object.entries(input.queries)) {
  const diagnostics = K.KustoCode.ParseAndAnalyze(text, globals).GetDiagnostics();
  const found = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    found.push({ code: d.Code, severity: d.Severity, message: d.Message, text: text.substr(d.Start, d.Length) });
  }
  out[id] = found;
}
process.stdout.write(JSON.stringify(out));
