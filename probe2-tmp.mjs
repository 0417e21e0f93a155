import { registerHooks } from 'node:module';
registerHooks({ load(url, context, nextLoad) { if (url.endsWith('.min.json') && url.includes('workflow-parser')) return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } }); return nextLoad(url, context); } });
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import('@actions/workflow-parser');
import { readFileSync } from 'node:fs';
const f = process.argv[2];
const r = parseWorkflow({ name: f, content: readFileSync(f, 'utf8') }, new NoOperationTraceWriter());
console.log('parse', r.context.errors.getErrors().map(e => e.message));
const wt = await convertWorkflowTemplate(r.context, r.value, { getFileContent: async (ref) => ({ name: 'attach-matrix.yml', content: readFileSync('.github/workflows/attach-matrix.yml', 'utf8') }) }, { fetchReusableWorkflowDepth: 1 });
console.log('convert', wt.errors);
