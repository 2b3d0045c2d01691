#include "agents/prompt_template.hpp"

#include <catch2/catch.hpp>

using namespace mb::agents;
using strings = std::vector<std::string>;

TEST_CASE("variables take the call's value, then the profile default, then the inline fallback", "[agents]") {
  const variables call{{"From", "+15005550006"}, {"CallerName", ""}};
  const variables defaults{{"company", "Acme"}, {"From", "unused"}};
  const auto r = render("Hi {{ CallerName | there }} at {{From}}, {{company}} here.", call, defaults);
  CHECK(r.text == "Hi there at +15005550006, Acme here.");
  CHECK(r.missing.empty());
}

TEST_CASE("a variable without any value becomes empty and is reported once", "[agents]") {
  const auto r = render("[{{topic}}] and again [{{ topic }}] and {{lang}}", {}, {});
  CHECK(r.text == "[] and again [] and ");
  CHECK(r.missing == strings{"topic", "lang"});
}

TEST_CASE("an empty inline fallback is a deliberate empty value", "[agents]") {
  const auto r = render("a{{note|}}b", {}, {});
  CHECK(r.text == "ab");
  CHECK(r.missing.empty());
}

TEST_CASE("text that is not a placeholder stays as it is", "[agents]") {
  const std::string text = "{{}} {{ }} {{two words}} {{bad!name}} {{open and { single } }} end {{";
  const auto r = render(text, {{"two", "x"}}, {});
  CHECK(r.text == text);
  CHECK(r.missing.empty());
  CHECK(variables_in(text).empty());
}

TEST_CASE("braces around a placeholder are kept", "[agents]") {
  CHECK(render("{{{x}}}", {{"x", "1"}}, {}).text == "{1}");
}

TEST_CASE("variables_in lists each name once, in order", "[agents]") {
  CHECK(variables_in("{{b}} {{a|z}} {{b}} {{c.d-e_f}}") == strings{"b", "a", "c.d-e_f"});
}
