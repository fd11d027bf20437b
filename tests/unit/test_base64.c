/* test_base64.c - the shared base64 decoder and encoder (src/util/base64.c): the RFC 4648 section
 * 10 test vectors, the URL-safe alphabet, white space, optional padding and malformed input. */
#include <stdlib.h>

#include "aitag/common.h"
#include "check.h"

/* 1 when s decodes to exactly the n bytes of want. */
static int decodes_to(const char *s, const void *want, size_t n)
{
    unsigned char *out = malloc(AITAG_BASE64_DECODED_MAX(strlen(s)));
    size_t len = (size_t)-1;
    int ok = out && aitag_base64_decode(s, out, &len) == 0 && len == n && memcmp(out, want, n) == 0;

    free(out);
    return ok;
}

static int rejects(const char *s)
{
    unsigned char *out = malloc(AITAG_BASE64_DECODED_MAX(strlen(s)));
    size_t len = 12345;
    int rc = out ? aitag_base64_decode(s, out, &len) : 0;

    free(out);
    return rc == AITAG_ERR_INVALID && len == 12345;
}

static void test_rfc4648_vectors(void)
{
    CHECK(decodes_to("", "", 0));
    CHECK(decodes_to("Zg==", "f", 1));
    CHECK(decodes_to("Zm8=", "fo", 2));
    CHECK(decodes_to("Zm9v", "foo", 3));
    CHECK(decodes_to("Zm9vYg==", "foob", 4));
    CHECK(decodes_to("Zm9vYmE=", "fooba", 5));
    CHECK(decodes_to("Zm9vYmFy", "foobar", 6));
}

static void test_alphabets_and_layout(void)
{
    const unsigned char high[] = {0xfb, 0xff, 0xbf};

    CHECK(decodes_to("+/+/", high, 3));               /* standard alphabet */
    CHECK(decodes_to("-_-_", high, 3));               /* URL-safe alphabet */
    CHECK(decodes_to("Zm9vYg", "foob", 4));           /* padding left out */
    CHECK(decodes_to("Zm9v\r\nYmFy\n", "foobar", 6)); /* MIME line breaks */
    CHECK(decodes_to(" Zm 9v\tYg == ", "foob", 4));
    CHECK(decodes_to("AAEC", "\x00\x01\x02", 3)); /* binary with a NUL byte */
}

static void test_bad_input(void)
{
    CHECK(rejects("Zm9v!")); /* outside both alphabets */
    CHECK(rejects("Zm9v.mFy"));
    CHECK(rejects("Zg==Zm9v")); /* data after padding */
    CHECK(rejects("Zg=a"));
    CHECK(rejects("Zm9vY")); /* a lone final character is not a byte */
    CHECK(rejects("Z"));
    CHECK(rejects("\xc3\xa9")); /* non-ASCII */
}

/* The encoder: the RFC 4648 vectors, and every byte value round-trips through the decoder. */
static void test_encode(void)
{
    static const char *const vec[][2] = {{"", ""},
                                         {"f", "Zg=="},
                                         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="},
                                         {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    unsigned char bytes[256], back[AITAG_BASE64_DECODED_MAX(344)];
    char out[400];
    size_t n = 0;

    for (size_t i = 0; i < sizeof vec / sizeof *vec; i++) {
        CHECK(aitag_base64_encoded_size(strlen(vec[i][0])) == strlen(vec[i][1]) + 1);
        aitag_base64_encode((const unsigned char *)vec[i][0], strlen(vec[i][0]), out);
        CHECK_STR(out, vec[i][1]);
    }
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)(255 - i);
    aitag_base64_encode(bytes, sizeof bytes, out);
    CHECK(strlen(out) == 344);
    CHECK_EQ_INT(aitag_base64_decode(out, back, &n), 0);
    CHECK(n == sizeof bytes && memcmp(back, bytes, n) == 0);
}

int main(void)
{
    test_rfc4648_vectors();
    test_alphabets_and_layout();
    test_bad_input();
    test_encode();
    return check_done();
}
