# SPDX-License-Identifier: Apache-2.0
# Interop with the real sender: Debian's prometheus scraping prometheus-node-exporter,
# remote-writing to pharosd; included from tests/integration/CMakeLists.txt.
add_test(NAME integration/interop_prometheus
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop_prometheus.sh $<TARGET_FILE:pharosd>)
set_tests_properties(integration/interop_prometheus PROPERTIES
  LABELS integration
  TIMEOUT 300
  SKIP_RETURN_CODE 77)
