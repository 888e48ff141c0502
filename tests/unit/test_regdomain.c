/* SPDX-License-Identifier: BSD-2-Clause */
/* test_regdomain.c: registrable domains against the Public Suffix List's own test cases and hostile names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "regdomain.h"

static int setup(void **state)
{
	char err[256];

	(void)state;
	return regdomain_init(err, sizeof err);
}

static void expect(const char *name, const char *want)
{
	char buf[256];
	bool ok = regdomain_of(name, buf, sizeof buf);

	if (!want) {
		if (ok)
			fail_msg("%s: expected no registrable domain, got %s", name, buf);
		assert_string_equal(buf, "");
		return;
	}
	if (!ok)
		fail_msg("%s: expected %s, got none", name, want);
	assert_string_equal(buf, want);
}

/* Cases from the PSL's tests/test_psl.txt (publicsuffix/list), which libpsl also runs. */
static void test_psl_cases(void **state)
{
	(void)state;
	expect("example.com", "example.com");
	expect("www.example.com", "example.com");
	expect("a.b.example.com", "example.com");
	expect("com", NULL);
	expect("example.uk.com", "example.uk.com");
	expect("b.example.uk.com", "example.uk.com");
	expect("www.bbc.co.uk", "bbc.co.uk");
	expect("co.uk", NULL);
	expect("test.ac", "test.ac");
	expect("b.test.ck", "b.test.ck");	/* *.ck */
	expect("www.www.ck", "www.ck");	/* !www.ck */
	expect("foo.github.io", "foo.github.io");	/* private section: each tenant its own */
	expect("x.foo.github.io", "foo.github.io");
	expect("github.io", NULL);
	expect("bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com");
}

/* Case, the root dot, and what is not a host name at all. */
static void test_hostile_names(void **state)
{
	char small[8];

	(void)state;
	expect("WWW.Microsoft.COM.", "microsoft.com");
	expect("192.0.2.1", NULL);
	expect("", NULL);
	expect(".", NULL);
	expect("a..example.com", NULL);
	expect(".example.com", NULL);
	expect("exa mple.com", NULL);
	expect("ex\"ample.com", NULL);
	assert_false(regdomain_of(NULL, small, sizeof small));
	assert_false(regdomain_of("www.example.com", small, sizeof small));	/* does not fit: never cut */
	assert_string_equal(small, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psl_cases),
		cmocka_unit_test(test_hostile_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
