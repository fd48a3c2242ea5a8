package web

import "fmt"

// The texts of the dashboard's emails. They are plain text; a link may be
// "" when the server's address is unknown (see Server.BaseURL).

func verifyMail(link string) string {
	return fmt.Sprintf(`Welcome to Twinex.

Please confirm that this is your email address by opening this link:

%s

The link works once and expires in 24 hours. If you did not create a
Twinex account, ignore this message: nothing happens unless the link is
opened.
`, link)
}

func existingAccountMail(forgotLink string) string {
	return fmt.Sprintf(`Someone, perhaps you, tried to create a Twinex account with this email
address, but you already have one.

If it was you, log in instead. If you forgot your password, you can reset
it here:

%s

If it was not you, you can ignore this message: your account has not
changed.
`, forgotLink)
}

func resetMail(link string) string {
	return fmt.Sprintf(`Someone, perhaps you, asked to reset the password of your Twinex account.

To choose a new password, open this link:

%s

The link works once and expires in 1 hour. If you did not ask for it,
ignore this message: your password stays as it is.
`, link)
}

func passwordChangedMail(forgotLink string) string {
	return fmt.Sprintf(`The password of your Twinex account was just changed, and every session
was signed out.

If you did this, there is nothing more to do. If you did not, reset your
password at once and contact the operator of this exchange:

%s
`, forgotLink)
}
