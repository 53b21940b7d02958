#include "base/text.h"

#include <gtest/gtest.h>

namespace base {
namespace {

// A manifest's name, description or file URL reaches a terminal: escape
// sequences in it must show as text, never act (clear the screen, rewrite the
// line that says "verified", set the title, hide the rest of a line).
TEST(Text, ControlCharactersBecomeVisibleEscapes) {
  EXPECT_EQ(PrintableText("Alpine \x1b[2J\x1b]0;pwned\x07 3.19"), "Alpine \\x1b[2J\\x1b]0;pwned\\x07 3.19");
  EXPECT_EQ(PrintableText("ok\rFAKE\b\x7f"), "ok\\x0dFAKE\\x08\\x7f");
  EXPECT_EQ(PrintableText(std::string("nul\0byte\ttab", 12)), "nul\\x00byte\\x09tab");
  // C1 controls as UTF-8 (U+009B is CSI) and as raw bytes (an 8-bit terminal's CSI).
  EXPECT_EQ(PrintableText("a\xc2\x9b" "31mred"), "a\\u009b31mred");
  EXPECT_EQ(PrintableText("a\x9b" "31mred"), "a\\x9b31mred");
  // Newlines are structure in multi-line output, data in a one-line field.
  EXPECT_EQ(PrintableText("one\ntwo"), "one\ntwo");
  EXPECT_EQ(PrintableText("one\ntwo", false), "one\\x0atwo");
}

TEST(Text, PrintableTextAndUtf8PassThrough) {
  EXPECT_EQ(PrintableText("Tiny Core 15.0 – “x” 日本 😀 back\\slash"), "Tiny Core 15.0 – “x” 日本 😀 back\\slash");
  EXPECT_EQ(PrintableText(""), "");
  // Broken UTF-8 shows its bytes: overlong, surrogate, truncated, stray continuation.
  EXPECT_EQ(PrintableText("\xc0\xaf|\xed\xa0\x80|\xe2\x82|\x80"), "\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x82|\\x80");
}

TEST(Text, Utf8Validation) {
  for (const char* utf8 : {"plain https://example.org/caf\xc3\xa9", "\xf0\x9f\x98\x80"}) {
    EXPECT_TRUE(IsUtf8(utf8)) << utf8;
  }
  // Latin-1, overlong, surrogate, past U+10FFFF, truncated.
  for (const char* broken : {"caf\xe9", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    EXPECT_FALSE(IsUtf8(broken)) << PrintableText(broken);
  }
}

}  // namespace
}  // namespace base
