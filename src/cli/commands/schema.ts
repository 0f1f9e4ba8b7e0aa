import { catalogJsonSchema } from '../../catalog/schema.js';
import { EXIT } from '../../errors.js';
import { reportJsonSchema } from '../../report/schema.js';

export async function schemaCommand({ which }: { which: string }): Promise<number> {
  const schema = which === 'report' ? reportJsonSchema() : catalogJsonSchema();
  process.stdout.write(JSON.stringify(schema, null, 2) + '\n');
  return EXIT.OK;
}
