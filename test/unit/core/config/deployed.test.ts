import { deployedConfigDocument, DEPLOYED_CONFIG_FORMAT, readDeployedConfig } from '../../../../functions/core/config/deployed';
import { loadConfigFile } from '../../../../functions/core/config/load';
import { ConfigError } from '../../../../functions/core/errors';

describe('the deployed config document', () => {
  const config = loadConfigFile('forklift.config.yaml');

  it('round-trips the parsed config through JSON, types resolved', () => {
    const json = JSON.parse(JSON.stringify(deployedConfigDocument(config)));
    const read = readDeployedConfig(json, 'forklift.config.json');
    expect(read).toEqual(config);
    expect(read.tables['visits']?.columns['revenue']?.type).toEqual({ base: 'DECIMAL', precision: 12, scale: 2 });
  });

  it('refuses a document of another format (the config as written, or another version) with a clear error', () => {
    const asWritten = { warehouse: {}, landing: {}, tables: {} };
    expect(() => readDeployedConfig(asWritten, '/var/task/forklift.config.json')).toThrow(ConfigError);
    expect(() => readDeployedConfig({ format: 'forklift/parsed-config-v0', config }, 'x.json')).toThrow(
      `expected format '${DEPLOYED_CONFIG_FORMAT}'`,
    );
    expect(() => readDeployedConfig({ format: DEPLOYED_CONFIG_FORMAT, config: {} }, 'x.json')).toThrow('lacks warehouse, landing or tables');
  });
});
