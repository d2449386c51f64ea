import { readFileSync } from 'node:fs';
import { configReferenceMarkdown, schemaFileContent, withReference } from '../../../scripts/configReference';

describe('generated config documentation', () => {
  it('README.md carries the current config reference (run `npm run schema` after changing the schema)', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(withReference(readme)).toBe(readme);
  });

  it('forklift.config.schema.json is the current JSON Schema', () => {
    expect(readFileSync('forklift.config.schema.json', 'utf8')).toBe(schemaFileContent());
  });

  it('documents every table field, with defaults', () => {
    const reference = configReferenceMarkdown();
    expect(reference).toContain('| `tables.<name>.mode` | `append` \\| `replace` \\| `truncate` \\| `merge` |  | `"append"` |');
    expect(reference).toContain('`tables.<name>.columns.<name>.type`');
  });

  it('shows each alternative of a union by its fields, and notes which alternative a field belongs to', () => {
    const reference = configReferenceMarkdown();
    expect(reference).not.toContain('object or object');
    expect(reference).toContain('| `tables.<name>.format` | `{ type: json, jsonpaths }` or `{ type: csv, header, delimiter }` or `{ type: parquet }` |');
    expect(reference).toContain('| `tables.<name>.format.header` | boolean |  | `true` | with type csv: ');
    expect(reference.match(/`tables\.<name>\.format\.type`/g)).toBeNull();
  });
});
