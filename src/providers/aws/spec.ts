import {defineProvider} from '../spec.js'

/** AWS Secrets Manager, with KMS as a key service and CloudTrail as its trail. */
export const awsSpec = defineProvider({
  kind: 'aws',
  title: 'AWS Secrets Manager',
  settings: {
    region: 'string',
    profile: 'string',
    endpoint: 'string',
    recoveryWindowDays: 'number',
    maxAttempts: 'number',
    concurrency: 'number',
    kmsKeyId: 'string',
    prefix: 'string',
    /** A role to assume (STS AssumeRole) with the credentials of the default chain. */
    roleArn: 'string',
    externalId: 'string',
    roleSessionName: 'string',
    /** CloudTrail's endpoint for `audit trail` (default: the SDK's, or AWS_ENDPOINT_URL_CLOUDTRAIL). */
    cloudTrailEndpoint: 'string',
  },
  credentialHint: 'the AWS credential chain: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or web identity',
  keyServices: [
    {
      scheme: 'awskms',
      form: 'awskms://<key ARN or alias>',
      description: 'AWS KMS, the AWS credential chain',
    },
  ],
  trail: {source: 'CloudTrail'},
  sdkPackages: ['@aws-sdk/*'],
  docs: 'docs/providers/aws.md',
})
