// Removes credentials from text before it reaches a log line or a metric label.

/** URI user-info (`scheme://user:pass@host`) anywhere in a text. */
const USER_INFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/@]+@/g;

/** Query parameters of signed URLs and key=value settings that carry secrets. */
const SECRET_PARAMS = /\b(X-Amz-(?:Signature|Credential|Security-Token)|AWSAccessKeyId|Signature|sig|token|access_token|password|passwd|secret|aws_secret_access_key|aws_session_token|secretAccessKey|sessionToken)=[^\s&"',;]+/gi;

/** AWS access key ids (`AKIA…`, `ASIA…`): not secret alone, but half of a credential pair. */
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g;

/**
 * `text` with URI passwords, signed-URL signatures, secret `key=value` settings and AWS access
 * key ids replaced by `***`: error messages and details come from storage clients and user code,
 * and the rule is that credentials are never logged (DESIGN.md).
 *
 * @example
 * redactCredentials('GET s3://AKIAABCDEFGHIJKLMNOP:pw@host/x?X-Amz-Signature=abc');
 * // 'GET s3://***@host/x?X-Amz-Signature=***'
 */
export function redactCredentials(text: string): string {
  return text.replace(USER_INFO, '$1***@').replace(SECRET_PARAMS, '$1=***').replace(ACCESS_KEY_ID, '***');
}
