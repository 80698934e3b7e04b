"""The bulb-skill workbench: everything that helps build and run the skill but never ships to
Lambda: the local stack and its simulator (``bulb_workbench.local``), the ``skill`` command line
(``bulb_workbench.cli``), the dead-letter tool (``bulb_workbench.dlq``) and the benchmarks
(``bulb_workbench.bench``)."""
