// Boost.JSON compiled into certagent (CERTAGENT_BUNDLED_DEPS; docs/performance.md,
// "Memory round 2"): the library's own single-translation-unit form, from Debian's headers
// (libboost-json1.81-dev), instead of mapping libboost_json.so at run time.
#include <boost/json/src.hpp>
