"""Storage: the DynamoDB table (pynamodb models and repository) and the SQS queue."""
