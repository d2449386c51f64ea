import { UsageError } from '../../../cli/errors';
import { positiveInteger } from '../../../cli/options';

describe('positiveInteger', () => {
  it('takes an integer of at least 1', () => {
    expect(positiveInteger('12', '--runs')).toBe(12);
  });

  it.each(['0', '-3', '1.5', 'x', ''])("refuses '%s', naming the option", (text) => {
    expect(() => positiveInteger(text, '--runs')).toThrow(new UsageError(`--runs must be a positive integer, not '${text}'`));
  });

  it('takes 0 only when allowed', () => {
    expect(positiveInteger('0', '--days-back', true)).toBe(0);
    expect(() => positiveInteger('-1', '--days-back', true)).toThrow("--days-back must be a non-negative integer, not '-1'");
  });
});
