/**
 * The documented columns and types of the Defender advanced-hunting email tables dsguard's KQL reads
 * (MicrosoftDocs/defender-docs `advanced-hunting-emailevents-table.md`, `…-emailattachmentinfo-table.md`,
 * `…-emailurlinfo-table.md`; see /work/shared/reference/exchange-online-formats.md §5). Queries may only name
 * these columns (the type system enforces it for the selection conditions; tests check every query against
 * these schemas with Microsoft's own KQL parser).
 * @module
 */

export const EMAIL_EVENTS_COLUMNS = {
  Timestamp: 'datetime',
  NetworkMessageId: 'string',
  InternetMessageId: 'string',
  SenderMailFromAddress: 'string',
  SenderFromAddress: 'string',
  SenderDisplayName: 'string',
  SenderObjectId: 'string',
  SenderMailFromDomain: 'string',
  SenderFromDomain: 'string',
  SenderIPv4: 'string',
  SenderIPv6: 'string',
  RecipientEmailAddress: 'string',
  RecipientObjectId: 'string',
  Subject: 'string',
  EmailClusterId: 'long',
  EmailDirection: 'string',
  DeliveryAction: 'string',
  DeliveryLocation: 'string',
  ThreatTypes: 'string',
  ThreatNames: 'string',
  DetectionMethods: 'string',
  ConfidenceLevel: 'string',
  BulkComplaintLevel: 'int',
  EmailAction: 'string',
  EmailActionPolicy: 'string',
  EmailActionPolicyGuid: 'string',
  AuthenticationDetails: 'string',
  AttachmentCount: 'int',
  UrlCount: 'int',
  EmailLanguage: 'string',
  Connectors: 'string',
  OrgLevelAction: 'string',
  OrgLevelPolicy: 'string',
  UserLevelAction: 'string',
  UserLevelPolicy: 'string',
  ReportId: 'string',
  AdditionalFields: 'string',
  LatestDeliveryLocation: 'string',
  LatestDeliveryAction: 'string',
} as const;

export const EMAIL_ATTACHMENT_INFO_COLUMNS = {
  Timestamp: 'datetime',
  NetworkMessageId: 'string',
  SenderFromAddress: 'string',
  SenderDisplayName: 'string',
  SenderObjectId: 'string',
  RecipientEmailAddress: 'string',
  RecipientObjectId: 'string',
  FileName: 'string',
  FileType: 'string',
  SHA256: 'string',
  FileSize: 'long',
  ThreatTypes: 'string',
  ThreatNames: 'string',
  DetectionMethods: 'string',
  ReportId: 'string',
} as const;

export const EMAIL_URL_INFO_COLUMNS = {
  Timestamp: 'datetime',
  NetworkMessageId: 'string',
  Url: 'string',
  UrlDomain: 'string',
  UrlLocation: 'string',
  ReportId: 'string',
} as const;

export type EmailEventsColumn = keyof typeof EMAIL_EVENTS_COLUMNS;

/** Table name → column → KQL scalar type. */
export const EMAIL_TABLES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  EmailEvents: EMAIL_EVENTS_COLUMNS,
  EmailAttachmentInfo: EMAIL_ATTACHMENT_INFO_COLUMNS,
  EmailUrlInfo: EMAIL_URL_INFO_COLUMNS,
};

/** `(Timestamp:datetime, …)`: a table schema in Kusto's own notation. */
export function kustoSchema(columns: Readonly<Record<string, string>>): string {
  return `(${Object.entries(columns)
    .map(([c, t]) => `${c}:${t}`)
    .join(', ')})`;
}
