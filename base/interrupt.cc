#include "base/interrupt.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <unistd.h>

namespace base {
namespace {

// 0: nothing asked; > 0: the signal that did; kCommitting: past the commit point.
constexpr int kCommitting = -1;
std::atomic<int> g_state{0};
static_assert(std::atomic<int>::is_always_lock_free, "the handler needs a lock-free atomic");

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGHUP};

void Write(const char* text) { (void)!write(STDERR_FILENO, text, std::strlen(text)); }

void OnSignal(int sig) {
  const int saved_errno = errno;
  int expected = 0;
  const char* name = sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP";
  if (g_state.compare_exchange_strong(expected, sig)) {
    Write("bootrino: ");
    Write(name);
    Write(" received: stopping before anything is changed\n");
  } else if (expected == kCommitting) {
    Write("bootrino: ");
    Write(name);
    Write(" ignored: the disk is being written, and stopping now would leave it unbootable\n");
  }
  errno = saved_errno;
}

}  // namespace

void InstallInterruptHandlers() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int sig : kSignals) sigaddset(&action.sa_mask, sig);
  for (int sig : kSignals) sigaction(sig, &action, nullptr);
}

int InterruptSignal() {
  const int state = g_state.load();
  return state > 0 ? state : 0;
}

bool EnterCommit() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kSignals) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int expected = 0;
  if (g_state.compare_exchange_strong(expected, kCommitting) || expected == kCommitting) return true;
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  return false;
}

std::string SignalName(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
  }
  return "signal " + std::to_string(sig);
}

}  // namespace base
