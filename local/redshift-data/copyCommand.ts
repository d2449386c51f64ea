/**
 * Parses Redshift's `COPY table [(cols)] FROM 's3://...' <options>` into a plain
 * object; options come in any order and keywords are case-insensitive.
 */
import { SqlRejectedError } from './dialect';
import { type Token, identName, keyword, significant, unquoteString } from './sqlText';

/** A parsed COPY command. */
export interface CopyCommand {
  table: string;
  schema?: string;
  columns?: string[];
  from: string;
  manifest: boolean;
  format: 'text' | 'csv' | 'json' | 'parquet';
  /** 'auto', 'auto ignorecase' or an s3:// jsonpaths URL. */
  json?: string;
  delimiter: string;
  quote: string;
  ignoreHeader: number;
  compression: 'none' | 'gzip' | 'bzip2' | 'zstd' | 'lzop';
  timeFormat: string;
  dateFormat: string;
  region?: string;
  acceptInvChars: boolean;
  truncateColumns: boolean;
  blanksAsNull: boolean;
  emptyAsNull: boolean;
  maxError: number;
  nullAs?: string;
}

const IGNORED_FLAGS = new Set(['ENCRYPTED', 'REMOVEQUOTES', 'ESCAPE', 'FILLRECORD', 'TRIMBLANKS', 'EXPLICIT_IDS', 'ROUNDEC', 'IGNOREBLANKLINES', 'NOLOAD']);

/** Parses a COPY statement's tokens; throws SqlRejectedError on what Redshift would refuse. */
export function parseCopy(tokens: Token[]): CopyCommand {
  const t = significant(tokens);
  let i = 1;
  const fail = (msg: string): never => {
    throw new SqlRejectedError(`COPY: ${msg}`);
  };
  const nameTok = (): string => {
    const tok = t[i++];
    if (!tok || (tok.kind !== 'word' && tok.kind !== 'ident')) return fail('expected a table name');
    return identName(tok);
  };
  const str = (what: string): string => {
    const tok = t[i++];
    if (!tok || tok.kind !== 'string') return fail(`${what} needs a quoted string`);
    return unquoteString(tok);
  };
  const optAs = (): void => {
    if (keyword(t[i]) === 'AS') i++;
  };
  let table = nameTok();
  let schema: string | undefined;
  if (t[i]?.text === '.') {
    i++;
    schema = table;
    table = nameTok();
  }
  let columns: string[] | undefined;
  if (t[i]?.text === '(') {
    i++;
    columns = [];
    while (t[i] && t[i]?.text !== ')') {
      columns.push(nameTok());
      if (t[i]?.text === ',') i++;
    }
    i++;
  }
  if (keyword(t[i]) !== 'FROM') fail('only COPY ... FROM is supported');
  i++;
  const from = str('FROM');
  if (!from.startsWith('s3://')) fail(`unsupported source '${from}' (only s3:// is supported locally)`);
  const cmd: CopyCommand = {
    table,
    from,
    manifest: false,
    format: 'text',
    delimiter: '|',
    quote: '"',
    ignoreHeader: 0,
    compression: 'none',
    timeFormat: 'YYYY-MM-DD HH:MI:SS',
    dateFormat: 'YYYY-MM-DD',
    acceptInvChars: false,
    truncateColumns: false,
    blanksAsNull: false,
    emptyAsNull: false,
    maxError: 0,
    ...(schema !== undefined ? { schema } : {}),
    ...(columns ? { columns } : {}),
  };
  let delimiterSet = false;
  let credentials = false;
  while (i < t.length) {
    const k = keyword(t[i++]);
    switch (k) {
      case 'WITH':
        break;
      case 'IAM_ROLE':
        credentials = true;
        if (keyword(t[i]) === 'DEFAULT') i++;
        else str('IAM_ROLE');
        break;
      case 'CREDENTIALS':
      case 'ACCESS_KEY_ID':
      case 'SECRET_ACCESS_KEY':
      case 'SESSION_TOKEN':
        optAs();
        credentials = true;
        str(k);
        break;
      case 'MANIFEST':
        cmd.manifest = true;
        break;
      case 'FORMAT': {
        optAs();
        const f = keyword(t[i]);
        if (!['JSON', 'CSV', 'PARQUET'].includes(f)) fail(`FORMAT ${t[i]?.text ?? ''} is not supported locally`);
        break;
      }
      case 'JSON':
        cmd.format = 'json';
        optAs();
        cmd.json = t[i]?.kind === 'string' ? str('JSON') : 'auto';
        if (!/^(auto|auto ignorecase|s3:\/\/.+)$/i.test(cmd.json)) fail(`JSON '${cmd.json}' is not supported locally`);
        if (!cmd.json.startsWith('s3://')) cmd.json = cmd.json.toLowerCase();
        break;
      case 'CSV':
        cmd.format = 'csv';
        if (keyword(t[i]) === 'QUOTE') {
          i++;
          optAs();
          cmd.quote = str('QUOTE');
        }
        break;
      case 'PARQUET':
        cmd.format = 'parquet';
        break;
      case 'DELIMITER':
        optAs();
        // Redshift reads '\t' (and octal '\ddd') as the character it names.
        cmd.delimiter = str('DELIMITER').replace(/^\\(t|[0-7]{3})$/, (_m, e: string) => (e === 't' ? '\t' : String.fromCharCode(parseInt(e, 8))));
        delimiterSet = true;
        if ([...cmd.delimiter].length !== 1) fail('DELIMITER must be a single character');
        break;
      case 'IGNOREHEADER': {
        optAs();
        const n = t[i++];
        if (n?.kind !== 'number') fail('IGNOREHEADER needs a number');
        cmd.ignoreHeader = Number(n?.text);
        break;
      }
      case 'GZIP':
        cmd.compression = 'gzip';
        break;
      case 'BZIP2':
        cmd.compression = 'bzip2';
        break;
      case 'ZSTD':
        cmd.compression = 'zstd';
        break;
      case 'LZOP':
        cmd.compression = 'lzop';
        break;
      case 'TIMEFORMAT':
        optAs();
        cmd.timeFormat = str('TIMEFORMAT');
        break;
      case 'DATEFORMAT':
        optAs();
        cmd.dateFormat = str('DATEFORMAT');
        break;
      case 'REGION':
        optAs();
        cmd.region = str('REGION');
        break;
      case 'ACCEPTINVCHARS':
        cmd.acceptInvChars = true;
        if (keyword(t[i]) === 'AS') {
          i++;
          str('ACCEPTINVCHARS');
        } else if (t[i]?.kind === 'string') i++;
        break;
      case 'TRUNCATECOLUMNS':
        cmd.truncateColumns = true;
        break;
      case 'BLANKSASNULL':
        cmd.blanksAsNull = true;
        break;
      case 'EMPTYASNULL':
        cmd.emptyAsNull = true;
        break;
      case 'NULL':
        optAs();
        cmd.nullAs = str('NULL AS');
        break;
      case 'STATUPDATE':
      case 'COMPUPDATE':
        if (['ON', 'OFF', 'TRUE', 'FALSE', 'PRESET'].includes(keyword(t[i]))) i++;
        break;
      case 'MAXERROR': {
        optAs();
        const n = t[i++];
        if (n?.kind !== 'number') fail('MAXERROR needs a number');
        cmd.maxError = Number(n?.text);
        break;
      }
      default:
        if (IGNORED_FLAGS.has(k)) break;
        fail(`option ${t[i - 1]?.text ?? ''} is not supported locally`);
    }
  }
  if (!credentials) fail('credentials are required: add IAM_ROLE or CREDENTIALS');
  if (cmd.format === 'csv' && !delimiterSet) cmd.delimiter = ',';
  if (cmd.format === 'parquet' && cmd.compression !== 'none') fail('compression options are not allowed with PARQUET');
  if (cmd.format === 'json' && cmd.json === undefined) cmd.json = 'auto';
  return cmd;
}
