/**
 * Forklift supports Node.js 20 and 22+ (package.json `engines`; the Lambdas run on Node 24).
 * The AWS SDK versions it locks support Node 20, but every SDK client warns on Node 20 that SDK
 * releases after the first week of January 2027 will need Node 22 (README, "Prerequisites").
 * The local tools (npm start, the CLI) print that once in the README instead of on every run.
 * Imported first by their entry points; a value the user set wins.
 */
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export {};
