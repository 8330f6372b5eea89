# SPDX-License-Identifier: Apache-2.0
# pharosd's Prometheus HTTP API answers against Debian's prometheus, request by
# request; included from tests/integration/CMakeLists.txt.
add_test(NAME integration/api_compat
  COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/api_compat.py $<TARGET_FILE:pharosd> $<TARGET_FILE:rwsend>
          ${CMAKE_CURRENT_SOURCE_DIR}/api_compat_requests.txt)
set_tests_properties(integration/api_compat PROPERTIES
  LABELS integration
  TIMEOUT 120
  SKIP_RETURN_CODE 77)
