import { configPath } from '../../../cli/target';
import { fromInvocationDir } from '../../../cli/paths';

describe('paths the user types resolve from where the command ran (npm keeps it in INIT_CWD)', () => {
  it('resolves a relative --config from INIT_CWD, not from the repo folder npm runs in', () => {
    expect(configPath({ config: 'mine.yaml' }, { INIT_CWD: '/home/me/project' })).toBe('/home/me/project/mine.yaml');
    expect(configPath({}, { INIT_CWD: '/home/me/project', FORKLIFT_CONFIG: 'conf/f.yaml' })).toBe('/home/me/project/conf/f.yaml');
  });

  it('keeps absolute paths, and the default config in the working directory', () => {
    expect(fromInvocationDir('/data/in', { INIT_CWD: '/home/me' })).toBe('/data/in');
    expect(configPath({}, { INIT_CWD: '/home/me' })).toBe('forklift.config.yaml');
  });

  it('falls back to the working directory outside npm', () => {
    expect(fromInvocationDir('data', {})).toBe(`${process.cwd()}/data`);
  });
});
