#include "userdata/yaml_tree.h"

#include <algorithm>
#include <map>

#include <yaml.h>

namespace userdata {
namespace {

using base::ErrorKind;

struct ParserDeleter {
  void operator()(yaml_parser_t* p) const {
    yaml_parser_delete(p);
    delete p;
  }
};

// Owns one event; yaml_event_delete frees its strings.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { yaml_event_delete(&event_); }
  yaml_event_t* get() { return &event_; }
  const yaml_event_t& operator*() const { return event_; }
  const yaml_event_t* operator->() const { return &event_; }

 private:
  yaml_event_t event_{};
};

std::unexpected<base::Error> Bad(std::string message) {
  return base::Fail(base::Error(ErrorKind::kUsage, std::move(message))
                        .Hint("fix the YAML there (a YAML linter, or `cloud-init schema -c FILE`, shows the same)"));
}

std::string At(std::size_t line, std::size_t column) {
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

std::string ParserError(const yaml_parser_t& parser, std::string_view text) {
  const char* problem = parser.problem ? parser.problem : "malformed YAML";
  if (parser.error == YAML_READER_ERROR) {
    // Reader errors (bad UTF-8, control characters) carry a byte offset, not a mark.
    std::size_t offset = std::min(parser.problem_offset, text.size());
    std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
    std::size_t line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
    line_start = (line_start == std::string_view::npos || offset == 0) ? 0 : line_start + 1;
    return At(line, offset - line_start + 1) + ": " + problem + " (byte " + std::to_string(offset) +
           "): user-data must be UTF-8 text";
  }
  if (parser.error == YAML_MEMORY_ERROR) return "out of memory while parsing YAML";
  std::string message = At(parser.problem_mark.line + 1, parser.problem_mark.column + 1) + ": " + problem;
  if (parser.context) {
    message += " (" + std::string(parser.context) + " at " +
               At(parser.context_mark.line + 1, parser.context_mark.column + 1) + ")";
  }
  return message;
}

// Builds nodes from events with an explicit stack: nesting depth is bounded here,
// not by the C++ stack.
class Builder {
 public:
  base::Result<void> Open(const yaml_event_t& e, YamlNode::Kind kind, const yaml_char_t* anchor) {
    if (stack_.size() >= kMaxYamlDepth) {
      return Bad(At(e.start_mark.line + 1, e.start_mark.column + 1) + ": YAML nested deeper than " +
                 std::to_string(kMaxYamlDepth) + " levels");
    }
    auto node = NewNode(e, kind);
    if (!node) return std::unexpected(std::move(node).error());
    stack_.push_back({*node, anchor ? std::string(reinterpret_cast<const char*>(anchor)) : std::string(), nullptr});
    return {};
  }

  base::Result<void> Close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (frame.pending_key) return Bad(frame.node->Where() + ": mapping ends after a key with no value");
    return Add(frame.node, frame.anchor);
  }

  base::Result<void> Scalar(const yaml_event_t& e) {
    auto node = NewNode(e, YamlNode::Kind::kScalar);
    if (!node) return std::unexpected(std::move(node).error());
    auto& s = e.data.scalar;
    (*node)->value.assign(reinterpret_cast<const char*>(s.value), s.length);
    (*node)->plain = s.style == YAML_PLAIN_SCALAR_STYLE && (s.tag == nullptr || s.plain_implicit);
    return Add(*node, s.anchor ? std::string(reinterpret_cast<const char*>(s.anchor)) : std::string());
  }

  base::Result<void> Alias(const yaml_event_t& e) {
    std::string name(reinterpret_cast<const char*>(e.data.alias.anchor));
    auto it = anchors_.find(name);
    if (it == anchors_.end()) {
      return Bad(At(e.start_mark.line + 1, e.start_mark.column + 1) + ": alias *" + name +
                 " names no anchor defined before it");
    }
    return Add(it->second, "");
  }

  YamlRef root() const { return root_; }

 private:
  struct Frame {
    std::shared_ptr<YamlNode> node;
    std::string anchor;
    YamlRef pending_key;
  };

  base::Result<std::shared_ptr<YamlNode>> NewNode(const yaml_event_t& e, YamlNode::Kind kind) {
    if (++nodes_ > kMaxYamlNodes) {
      return Bad(At(e.start_mark.line + 1, e.start_mark.column + 1) + ": more than " + std::to_string(kMaxYamlNodes) +
                 " YAML nodes; user-data is a small document");
    }
    auto node = std::make_shared<YamlNode>();
    node->kind = kind;
    node->line = e.start_mark.line + 1;
    node->column = e.start_mark.column + 1;
    return node;
  }

  base::Result<void> Add(YamlRef node, const std::string& anchor) {
    if (!anchor.empty()) anchors_[anchor] = node;
    if (stack_.empty()) {
      root_ = std::move(node);
      return {};
    }
    Frame& top = stack_.back();
    auto& parent = *top.node;
    if (parent.kind == YamlNode::Kind::kSequence) {
      parent.items.push_back(std::move(node));
    } else if (!top.pending_key) {
      top.pending_key = std::move(node);
    } else {
      parent.entries.emplace_back(std::move(top.pending_key), std::move(node));
      top.pending_key = nullptr;
    }
    return {};
  }

  std::vector<Frame> stack_;
  std::map<std::string, YamlRef> anchors_;
  YamlRef root_;
  std::size_t nodes_ = 0;
};

}  // namespace

std::string YamlNode::Where() const { return At(line, column); }

bool YamlNode::IsNull() const {
  return kind == Kind::kScalar && plain && (value.empty() || value == "~" || value == "null" || value == "Null" ||
                                            value == "NULL");
}

base::Result<YamlRef> LoadYaml(std::string_view text) {
  std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t{});
  if (!yaml_parser_initialize(parser.get())) return base::Fail(ErrorKind::kInternal, "yaml_parser_initialize failed");
  yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()), text.size());
  Builder builder;
  int documents = 0;
  for (;;) {
    Event event;
    if (!yaml_parser_parse(parser.get(), event.get())) return Bad(ParserError(*parser, text));
    const auto& e = *event;
    base::Result<void> step;
    switch (e.type) {
      case YAML_STREAM_END_EVENT: {
        if (documents == 0) {
          auto null = std::make_shared<YamlNode>();
          null->plain = true;
          null->line = 1;
          null->column = 1;
          return YamlRef(null);
        }
        return builder.root();
      }
      case YAML_DOCUMENT_START_EVENT:
        if (++documents > 1) {
          return Bad(At(e.start_mark.line + 1, e.start_mark.column + 1) +
                     ": a second YAML document starts here; cloud-config is one document (remove the '---')");
        }
        break;
      case YAML_SCALAR_EVENT: step = builder.Scalar(e); break;
      case YAML_ALIAS_EVENT: step = builder.Alias(e); break;
      case YAML_SEQUENCE_START_EVENT:
        step = builder.Open(e, YamlNode::Kind::kSequence, e.data.sequence_start.anchor);
        break;
      case YAML_MAPPING_START_EVENT:
        step = builder.Open(e, YamlNode::Kind::kMapping, e.data.mapping_start.anchor);
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: step = builder.Close(); break;
      default: break;  // stream start, document end, no-op
    }
    if (!step) return std::unexpected(std::move(step).error());
  }
}

}  // namespace userdata
