"""Lambda handlers of the four processors, one module per style
(``skill.handlers.processors.sync``...).

They share one pipeline (``skill.pipeline``) and one handler (``_lambda``): the module names
exist so that each style deploys as its own function with its own queue, concurrency and policy.
"""
