#include "agent/status.h"

#include <gtest/gtest.h>

namespace agent {
namespace {

// Events name the host, its disk and addresses, and the URL may carry a
// token: they go over https, or stay on this machine, unless the user says
// --status-url-insecure.
TEST(StatusUrl, HttpsOrLoopbackOnly) {
  for (const char* ok : {"https://ops.example.com/events", "HTTPS://ops.example.com:8443/e?token=x",
                         "https://user:pw@10.0.0.1/e", "http://127.0.0.1:8080/status", "http://127.1.2.3/s",
                         "http://localhost/s", "http://LOCALHOST:99/s", "http://[::1]:8080/s"}) {
    EXPECT_TRUE(StatusUrlAllowed(ok)) << ok;
  }
  for (const char* refused : {"http://ops.example.com/events", "http://10.0.0.1/e", "http://128.0.0.1/s",
                              "http://127.0.0.1.example.com/s", "http://localhost.example.com/s",
                              "http://[::2]/s", "http://[::ffff:127.0.0.1]/s", "http://user@ops.example/s",
                              "ftp://127.0.0.1/s", "file:///etc/passwd", "not a url", ""}) {
    EXPECT_FALSE(StatusUrlAllowed(refused)) << refused;
  }
}

}  // namespace
}  // namespace agent
