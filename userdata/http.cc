#include "userdata/http.h"

namespace userdata {
namespace {

class CurlHttp : public Http {
 public:
  CurlHttp(std::chrono::milliseconds connect, std::chrono::milliseconds total) {
    policy_.connect_timeout = connect;
    policy_.total_timeout = total;
    policy_.use_proxy = false;  // metadata services are link-local: a proxy must not see these requests
    policy_.follow_redirects = false;
  }

  base::Result<Response> Send(const Request& request) override { return net::Send(request, policy_); }

 private:
  net::Policy policy_;
};

}  // namespace

std::unique_ptr<Http> NewCurlHttp(std::chrono::milliseconds connect, std::chrono::milliseconds total) {
  return std::make_unique<CurlHttp>(connect, total);
}

}  // namespace userdata
