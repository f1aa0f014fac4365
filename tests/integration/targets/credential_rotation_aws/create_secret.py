#!/usr/bin/env python
"""Create the Secrets Manager secret apps/billing with the JSON read from standard input (moto's server, from
AWS_ENDPOINT_URL)."""

import sys

import boto3

boto3.client('secretsmanager').create_secret(Name='apps/billing', SecretString=sys.stdin.read())
