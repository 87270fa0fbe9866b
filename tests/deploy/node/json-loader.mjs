// tests/deploy/node/json-loader.mjs — module hook: lets @actions/workflow-parser (built for
// bundlers) import its JSON schemas under Node, which requires the `type: json` attribute.
export async function load(url, context, nextLoad) {
  if (url.endsWith('.json') && !context.importAttributes?.type)
    return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
  return nextLoad(url, context);
}
