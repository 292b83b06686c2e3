## The conformance runner infini-conform and its tests.
