#include "protocol/bearer_token.hpp"

#include <catch2/catch.hpp>

using namespace mb::protocol;

TEST_CASE("the API token comes from the Authorization header, else from ?token=", "[protocol]") {
  CHECK(presented_token("Bearer abc123", "token=zzz") == "abc123");
  CHECK(presented_token("bearer  abc123 ", "") == "abc123");
  CHECK(presented_token("", "a=1&token=x%2By") == "x+y");
  CHECK(presented_token("Basic dXNlcjpwYXNz", "token=q") == "q");
  CHECK(presented_token("", "") == "");
  CHECK(presented_token("", "token=%zz") == "");
}

TEST_CASE("tokens match exactly, and an unset token matches nothing", "[protocol]") {
  CHECK(token_matches("s3cret", "s3cret"));
  CHECK_FALSE(token_matches("s3cre", "s3cret"));
  CHECK_FALSE(token_matches("s3cret ", "s3cret"));
  CHECK_FALSE(token_matches("", ""));
  CHECK_FALSE(token_matches("anything", ""));
}
