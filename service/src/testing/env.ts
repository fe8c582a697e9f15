/** Addresses of the real test services that scripts/test-env/up.sh started. */
export function testServices() {
  const need = (name: string) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run the tests with \`npm test\`, which starts MariaDB, Redis and MinIO`);
    return v;
  };
  return {
    mysqlUrl: need('MATE_TEST_MYSQL_URL'),
    redisUrl: need('MATE_TEST_REDIS_URL'),
    s3: {
      endpoint: need('MATE_TEST_S3_ENDPOINT'),
      accessKeyId: need('MATE_TEST_S3_ACCESS_KEY'),
      secretAccessKey: need('MATE_TEST_S3_SECRET_KEY'),
      region: process.env.MATE_TEST_S3_REGION ?? 'us-east-1',
    },
  };
}
