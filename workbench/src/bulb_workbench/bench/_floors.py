"""What a "dependency floor" does with each third-party library (``cold_start``): its import
lines, then its least first use. ``_cold_child.py`` runs the code the spec hands it, so that the
measured process imports nothing of the bench's before its clock starts.

Each library is used once, as cheaply as it can be, in the way every handler that loads it
uses it at least: one log line, one metric flushed, one SQS record through a batch, one
idempotent call (its DynamoDB put and update), one GET over loopback, one request dispatched,
one RS256 token verified, one route resolved, one secret read, one cache entry. The code runs
with ``spec`` (the child's spec: stub URLs, a token and its keys, an SQS record, an HTTP event)
and ``clients`` (the floor's boto3 clients) in scope.
"""

from __future__ import annotations

#: The import half of each library's floor: its imports and its main object created once.
DEPENDENCIES = {
    # one model defined and one instance validated: the least a pydantic user pays
    "pydantic": "from pydantic import BaseModel\n"
    "class _M(BaseModel):\n    name: str\n    value: int\n"
    "_M.model_validate({'name': 'x', 'value': 1})",
    "powertools-logger": "from aws_lambda_powertools import Logger\nlog = Logger(service='bench')",
    "powertools-metrics": "from aws_lambda_powertools import Metrics\n"
    "metrics = Metrics(namespace='bench')",
    "powertools-batch": "from aws_lambda_powertools.utilities.batch import BatchProcessor, "
    "SqsFifoPartialProcessor, EventType, process_partial_response",
    "powertools-idempotency": "from aws_lambda_powertools.utilities.idempotency import "
    "DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function",
    "powertools-event-handler": "from aws_lambda_powertools.event_handler import "
    "APIGatewayHttpResolver\napp = APIGatewayHttpResolver()",
    "powertools-parameters": "from aws_lambda_powertools.utilities.parameters import "
    "SecretsProvider",
    "powertools-feature-flags": "from aws_lambda_powertools.utilities.feature_flags import "
    "FeatureFlags",
    "requests": "import requests\nhttp = requests.Session()",
    "ask-sdk-runtime": "import ask_sdk_runtime.dispatch",
    "pyjwt": "import jwt\nimport jwt.algorithms\njwt.PyJWKSet",  # with cryptography (RS256)
    "cachetools": "from cachetools import TTLCache",
}

#: The use half: what runs after the imports (``"use": true``).
FIRST_USE = {
    "pydantic": "",  # the import half already validates an instance
    "powertools-logger": "log.info('floor')",
    "powertools-metrics": "metrics.add_metric(name='floor', unit='Count', value=1)\n"
    "metrics.flush_metrics()",
    "powertools-batch": "process_partial_response(event={'Records': [spec['sqs_record']]}, "
    "record_handler=lambda record: record.body, processor=BatchProcessor(EventType.SQS))",
    "powertools-idempotency": "import os\n"
    "def once(data):\n    return data\n"
    "layer = DynamoDBPersistenceLayer(table_name=os.environ['IDEMPOTENCY_TABLE'], "
    "boto3_client=clients['dynamodb'])\n"
    "idempotent_function(data_keyword_argument='data', persistence_store=layer, "
    "config=IdempotencyConfig())(once)(data={'floor': 1})",
    "powertools-event-handler": "@app.post('/floor')\ndef route():\n    return {}\n"
    "app.resolve(spec['http_event'], None)",
    "powertools-parameters": "SecretsProvider(boto3_client=clients['secretsmanager'])"
    ".get('bulb-skill/lwa')",
    "powertools-feature-flags": "",  # named by no handler's floor
    "requests": "http.get(spec['http_url'], timeout=5).json()",
    "ask-sdk-runtime": "from ask_sdk_runtime.dispatch_components.request_components import "
    "AbstractRequestHandler, GenericHandlerAdapter, GenericRequestHandlerChain, "
    "GenericRequestMapper\n"
    "from ask_sdk_runtime.skill import RuntimeConfiguration\n"
    "class Floor(AbstractRequestHandler):\n"
    "    def can_handle(self, handler_input):\n        return True\n"
    "    def handle(self, handler_input):\n        return {}\n"
    "ask_sdk_runtime.dispatch.GenericRequestDispatcher(RuntimeConfiguration("
    "request_mappers=[GenericRequestMapper([GenericRequestHandlerChain(Floor())])], "
    "handler_adapters=[GenericHandlerAdapter()])).dispatch({})",
    "pyjwt": "jwt.decode(spec['jwt'], jwt.PyJWKSet.from_dict(spec['jwks']).keys[0], "
    "algorithms=['RS256'], options={'verify_aud': False})",
    "cachetools": "TTLCache(maxsize=16, ttl=60)['floor'] = 1",
}


def dependency_steps(names: tuple[str, ...] | list[str]) -> list[list[str]]:
    """``[name, imports, first_use]`` of each library, for a child's spec."""
    return [[name, DEPENDENCIES[name], FIRST_USE[name]] for name in names]
