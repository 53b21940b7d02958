#include "userdata/shell.h"

#include <algorithm>
#include <map>

namespace userdata {
namespace {

using base::ErrorKind;

struct Word {
  std::string text;        // after quote removal and the expansions bootrino could do
  std::string unresolved;  // the first expansion it could not do ("$(date)", "$REF"); "" when none
};

struct Command {
  std::vector<Word> words;
  std::size_t line = 0;
};

using Pipeline = std::vector<Command>;

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

bool IsName(std::string_view s) {
  return !s.empty() && IsNameStart(s[0]) && std::all_of(s.begin(), s.end(), IsNameChar);
}

// NAME=value as a shell assignment word.
bool IsAssignment(std::string_view s) {
  std::size_t eq = s.find('=');
  return eq != std::string_view::npos && IsName(s.substr(0, eq));
}

std::string_view Basename(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Splits a script into pipelines of commands of words, as sh(1) would, without
// running anything. Control flow is flattened: every command is seen once, in order.
class Lexer {
 public:
  explicit Lexer(std::string_view script) : s_(script) {}

  std::vector<Pipeline> Run() {
    while (i_ < s_.size()) Step();
    EndPipeline();
    return std::move(out_);
  }

 private:
  enum class Pending { kNone, kRedirectTarget, kHeredocDelimiter };
  struct Heredoc {
    std::string delimiter;
    bool strip_tabs;
  };

  void Step() {
    const char c = s_[i_];
    if (c == '\\') {
      if (i_ + 1 < s_.size() && s_[i_ + 1] == '\n') {  // line continuation
        i_ += 2;
        ++line_;
        return;
      }
      StartWord();
      if (i_ + 1 < s_.size()) word_.text += s_[i_ + 1];
      i_ += 2;
    } else if (const auto part = WordPartReader(c)) {
      StartWord();
      (this->*part)();
    } else if (c == '#' && !in_word_) {
      while (i_ < s_.size() && s_[i_] != '\n') ++i_;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      EndWord();
      ++i_;
    } else if (c == '\n') {
      ++i_;
      EndPipeline();
      ++line_;
      SkipHeredocs();
    } else if (c == ';' || c == '&' || c == '(' || c == ')') {
      EndPipeline();
      ++i_;
    } else if (c == '|') {
      if (i_ + 1 < s_.size() && s_[i_ + 1] == '|') {
        EndPipeline();
        i_ += 2;
      } else {
        EndCommand();
        ++i_;
      }
    } else if (c == '<' || c == '>') {
      Redirection();
    } else {
      StartWord();
      word_.text += c;
      ++i_;
    }
  }

  // The quotes and expansions, which are parts of a word each read by a member of their own; null for
  // any other character.
  using PartReader = void (Lexer::*)();
  static PartReader WordPartReader(char c) {
    switch (c) {
      case '\'': return &Lexer::SingleQuoted;
      case '"': return &Lexer::DoubleQuoted;
      case '$': return &Lexer::Expansion;
      case '`': return &Lexer::Backticks;
      default: return nullptr;
    }
  }

  void StartWord() {
    if (in_word_) return;
    in_word_ = true;
    word_line_ = line_;
  }

  void EndWord() {
    if (!in_word_) return;
    in_word_ = false;
    Word word = std::exchange(word_, Word{});
    const Pending pending = std::exchange(pending_, Pending::kNone);
    if (pending == Pending::kRedirectTarget) return;
    if (pending == Pending::kHeredocDelimiter) {
      heredocs_.push_back({word.text, strip_tabs_});
      return;
    }
    if (command_.words.empty()) command_.line = word_line_;
    command_.words.push_back(std::move(word));
  }

  void EndCommand() {
    EndWord();
    if (command_.words.empty()) return;
    RecordAssignments(command_.words);
    pipeline_.push_back(std::exchange(command_, Command{}));
  }

  void EndPipeline() {
    EndCommand();
    if (!pipeline_.empty()) out_.push_back(std::exchange(pipeline_, Pipeline{}));
  }

  // `NAME=value …` alone, or after export/readonly/local, sets variables later
  // words may use; a value bootrino could not compute unsets the name.
  void RecordAssignments(const std::vector<Word>& words) {
    std::size_t first = 0;
    if (words[0].text == "export" || words[0].text == "readonly" || words[0].text == "local") first = 1;
    for (std::size_t k = first; k < words.size(); ++k) {
      if (!IsAssignment(words[k].text) && !(first == 1 && IsName(words[k].text))) return;
    }
    for (std::size_t k = first; k < words.size(); ++k) {
      const std::string& text = words[k].text;
      std::size_t eq = text.find('=');
      if (eq == std::string::npos) continue;
      if (words[k].unresolved.empty()) {
        vars_[text.substr(0, eq)] = text.substr(eq + 1);
      } else {
        vars_.erase(text.substr(0, eq));
      }
    }
  }

  void Unresolved(std::string_view text) {
    word_.text += text;
    if (word_.unresolved.empty()) word_.unresolved = std::string(text);
  }

  void SingleQuoted() {
    std::size_t close = s_.find('\'', i_ + 1);
    if (close == std::string_view::npos) close = s_.size();
    std::string_view body = s_.substr(i_ + 1, close - i_ - 1);
    line_ += static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n'));
    word_.text += body;
    i_ = std::min(close + 1, s_.size());
  }

  void DoubleQuoted() {
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      const char c = s_[i_];
      if (c == '\\' && i_ + 1 < s_.size() && std::string_view("$`\"\\\n").find(s_[i_ + 1]) != std::string_view::npos) {
        if (s_[i_ + 1] == '\n') {
          ++line_;
        } else {
          word_.text += s_[i_ + 1];
        }
        i_ += 2;
      } else if (c == '$') {
        Expansion();
      } else if (c == '`') {
        Backticks();
      } else {
        if (c == '\n') ++line_;
        word_.text += c;
        ++i_;
      }
    }
    ++i_;  // the closing quote
  }

  // At '$': parameter expansion of a known variable, or an unresolved expansion.
  void Expansion() {
    const std::size_t start = i_++;
    if (i_ >= s_.size()) {
      word_.text += '$';
      return;
    }
    const char c = s_[i_];
    if (c == '(') {  // $(…) and $((…))
      int depth = 0;
      while (i_ < s_.size()) {
        if (s_[i_] == '(') ++depth;
        if (s_[i_] == ')' && --depth == 0) {
          ++i_;
          break;
        }
        if (s_[i_] == '\n') ++line_;
        ++i_;
      }
      Unresolved(s_.substr(start, i_ - start));
    } else if (c == '{') {
      std::size_t close = s_.find('}', i_);
      if (close == std::string_view::npos) close = s_.size() - 1;
      std::string name(s_.substr(i_ + 1, close - i_ - 1));
      i_ = close + 1;
      if (auto it = vars_.find(name); IsName(name) && it != vars_.end()) {
        word_.text += it->second;
      } else {
        Unresolved(s_.substr(start, i_ - start));
      }
    } else if (IsNameStart(c)) {
      while (i_ < s_.size() && IsNameChar(s_[i_])) ++i_;
      std::string name(s_.substr(start + 1, i_ - start - 1));
      if (auto it = vars_.find(name); it != vars_.end()) {
        word_.text += it->second;
      } else {
        Unresolved(s_.substr(start, i_ - start));
      }
    } else if ((c >= '0' && c <= '9') || std::string_view("@*#?$!-").find(c) != std::string_view::npos) {
      ++i_;
      Unresolved(s_.substr(start, 2));
    } else {
      word_.text += '$';  // a lone '$' is itself
    }
  }

  void Backticks() {
    const std::size_t start = i_++;
    while (i_ < s_.size() && s_[i_] != '`') {
      if (s_[i_] == '\\') ++i_;
      else if (s_[i_] == '\n') ++line_;
      ++i_;
    }
    i_ = std::min(i_ + 1, s_.size());
    Unresolved(s_.substr(start, i_ - start));
  }

  // <, >, >>, >&, <&, >|, <>, and << or <<- (a here-document).
  void Redirection() {
    const bool io_number = in_word_ && word_.unresolved.empty() && !word_.text.empty() &&
                           std::all_of(word_.text.begin(), word_.text.end(), [](char d) { return d >= '0' && d <= '9'; });
    if (io_number) {  // "2" in 2>&1 belongs to the redirection
      in_word_ = false;
      word_ = Word{};
    } else {
      EndWord();
    }
    const char c = s_[i_++];
    if (c == '<' && i_ < s_.size() && s_[i_] == '<') {
      ++i_;
      strip_tabs_ = i_ < s_.size() && s_[i_] == '-';
      if (strip_tabs_) ++i_;
      pending_ = Pending::kHeredocDelimiter;
      return;
    }
    if (i_ < s_.size() && (s_[i_] == '>' || s_[i_] == '&' || s_[i_] == '|')) ++i_;
    pending_ = Pending::kRedirectTarget;
  }

  // After a newline: the bodies of here-documents opened on the line before.
  void SkipHeredocs() {
    for (const Heredoc& doc : std::exchange(heredocs_, {})) {
      while (i_ < s_.size()) {
        std::size_t nl = s_.find('\n', i_);
        std::size_t end = nl == std::string_view::npos ? s_.size() : nl;
        std::string_view line = s_.substr(i_, end - i_);
        i_ = nl == std::string_view::npos ? s_.size() : nl + 1;
        ++line_;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (doc.strip_tabs) {
          while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
        }
        if (line == doc.delimiter) break;
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0, line_ = 1, word_line_ = 1;
  std::map<std::string, std::string> vars_;
  std::vector<Pipeline> out_;
  Pipeline pipeline_;
  Command command_;
  Word word_;
  bool in_word_ = false;
  Pending pending_ = Pending::kNone;
  bool strip_tabs_ = false;
  std::vector<Heredoc> heredocs_;
};

bool IsShell(std::string_view name) {
  return name == "sh" || name == "bash" || name == "dash" || name == "ash" || name == "ksh" || name == "mksh" ||
         name == "zsh";
}

bool IsReservedWord(std::string_view w) {
  return w == "if" || w == "then" || w == "else" || w == "elif" || w == "do" || w == "while" || w == "until" ||
         w == "!" || w == "{" || w == "}";
}

bool StartsWithDash(const Word& w) { return w.text.size() > 1 && w.text[0] == '-'; }

// The index of the word that is the command itself, after what runs it without
// being it: reserved words, assignments, sudo/doas/env/exec/nohup/nice/timeout/… and their options.
std::size_t CommandStart(const std::vector<Word>& w) {
  std::size_t i = 0;
  for (;;) {
    const std::size_t before = i;
    while (i < w.size() && (IsReservedWord(w[i].text) || IsAssignment(w[i].text))) ++i;
    if (i >= w.size()) return i;
    const std::string_view name = Basename(w[i].text);
    auto skip_options = [&](std::initializer_list<std::string_view> with_argument) {
      ++i;
      while (i < w.size() && StartsWithDash(w[i])) {
        if (w[i].text == "--") {
          ++i;
          break;
        }
        if (std::find(with_argument.begin(), with_argument.end(), w[i].text) != with_argument.end()) ++i;
        ++i;
      }
    };
    if (name == "sudo" || name == "doas") {
      skip_options({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"});
    } else if (name == "env") {
      skip_options({"-u", "-C", "-S"});
    } else if (name == "exec" || name == "nohup" || name == "command" || name == "setsid" || name == "time") {
      skip_options({});
    } else if (name == "nice" || name == "ionice") {
      skip_options({"-n", "-c"});
    } else if (name == "timeout") {
      skip_options({"-s", "-k"});
      if (i < w.size()) ++i;  // the duration
    } else if (name == "busybox" && i + 1 < w.size() && IsShell(w[i + 1].text)) {
      ++i;
    }
    if (i == before) return i;
  }
}

// "https://h/x/install.sh?v=1" → true: the last path segment is install.sh.
bool NamesInstallScript(std::string_view word) {
  word = word.substr(0, word.find_first_of("?#"));
  return Basename(word) == "install.sh";
}

bool FetchesInstallScript(const Command& command) {
  const std::size_t start = CommandStart(command.words);
  if (start >= command.words.size()) return false;
  const std::string_view name = Basename(command.words[start].text);
  if (name != "curl" && name != "wget") return false;
  return std::any_of(command.words.begin() + start + 1, command.words.end(),
                     [](const Word& w) { return NamesInstallScript(w.text); });
}

base::Result<std::vector<Invocation>> Find(std::string_view script, std::size_t line_base, int depth);

base::Result<void> Take(const std::vector<Word>& words, std::size_t from, std::size_t line,
                        std::vector<Invocation>& found, bool to_install_sh = false) {
  Invocation invocation{{}, line, to_install_sh};
  for (std::size_t k = from; k < words.size(); ++k) {
    if (!words[k].unresolved.empty()) {
      return base::Fail(base::Error(ErrorKind::kUsage, "line " + std::to_string(line) + ": `bootrino run` is given " +
                                                           words[k].unresolved +
                                                           ", which only the shell can compute")
                            .Hint("write the manifest reference and flags literally, or set the variable on a "
                                  "plain NAME=value line above"));
    }
    invocation.args.push_back(words[k].text);
  }
  found.push_back(std::move(invocation));
  return {};
}

// The invocations one pipeline makes (see docs/userdata.md for the rule).
base::Result<void> FindInPipeline(const Pipeline& pipeline, int depth, std::vector<Invocation>& found) {
  for (std::size_t c = 0; c < pipeline.size(); ++c) {
    const std::vector<Word>& w = pipeline[c].words;
    const std::size_t line = pipeline[c].line;
    const std::size_t start = CommandStart(w);
    if (start >= w.size()) continue;
    const std::string_view name = Basename(w[start].text);
    if (name == "bootrino" && start + 1 < w.size() && w[start + 1].text == "run") {
      RETURN_IF_ERROR(Take(w, start + 2, line, found));
      continue;
    }
    if (!IsShell(name)) continue;
    bool from_stdin = false;
    std::size_t k = start + 1;
    for (; k < w.size() && (StartsWithDash(w[k]) || w[k].text.starts_with("+")) && w[k].text != "--"; ++k) {
      const std::string& option = w[k].text;
      if (option == "-o" || option == "+o") {
        ++k;
        continue;
      }
      if (option.starts_with("--")) continue;  // bash's long options
      if (option.find('c') != std::string::npos && option[0] == '-') {
        // sh -c 'STRING': look inside STRING.
        if (k + 1 < w.size() && w[k + 1].unresolved.empty() && depth < 3) {
          ASSIGN_OR_RETURN(auto inner, Find(w[k + 1].text, line > 0 ? line - 1 : 0, depth + 1));
          found.insert(found.end(), inner.begin(), inner.end());
        }
        k = w.size();
        break;
      }
      if (option.find('s') != std::string::npos && option[0] == '-') from_stdin = true;
    }
    if (k >= w.size() && !from_stdin) continue;
    if (k < w.size() && w[k].text == "--") ++k;
    if (from_stdin) {
      // curl …/install.sh | sh -s -- REF …
      if (std::any_of(pipeline.begin(), pipeline.begin() + static_cast<std::ptrdiff_t>(c), FetchesInstallScript)) {
        RETURN_IF_ERROR(Take(w, k, line, found, true));
      }
    } else if (k < w.size() && NamesInstallScript(w[k].text)) {
      RETURN_IF_ERROR(Take(w, k + 1, line, found, true));  // sh ./install.sh REF …
    }
  }
  return {};
}

base::Result<std::vector<Invocation>> Find(std::string_view script, std::size_t line_base, int depth) {
  std::vector<Invocation> found;
  for (Pipeline& pipeline : Lexer(script).Run()) {
    for (Command& command : pipeline) command.line += line_base;
    RETURN_IF_ERROR(FindInPipeline(pipeline, depth, found));
  }
  return found;
}

}  // namespace

base::Result<std::vector<Invocation>> FindInvocations(std::string_view script) { return Find(script, 0, 0); }

base::Result<std::vector<Invocation>> FindInvocationsInArgv(const std::vector<std::string>& argv) {
  Command command;
  for (const std::string& arg : argv) command.words.push_back(Word{arg, ""});
  std::vector<Invocation> found;
  RETURN_IF_ERROR(FindInPipeline(Pipeline{command}, 0, found));
  return found;
}

}  // namespace userdata
