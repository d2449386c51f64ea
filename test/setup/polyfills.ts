import '../../local/polyfills';
import '../../cli/sdkWarning';
