package mailsink

import (
	"net/smtp"
	"strconv"
	"testing"
)

func TestSinkKeepsEachRecipientsMessages(t *testing.T) {
	s, err := Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr := "127.0.0.1:" + strconv.Itoa(s.Port())
	msg := "Subject: Your verification code\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour code is:\r\n\r\n    123456\r\n"
	if err := smtp.SendMail(addr, nil, "from@soak.example", []string{"A@Soak.Example", "b@soak.example"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := s.To("a@soak.example")
	if len(got) != 1 || got[0].Subject != "Your verification code" || got[0].Body != "Your code is:\n\n    123456\n" {
		t.Fatalf("a@soak.example got %+v", got)
	}
	if len(s.To("b@soak.example")) != 1 || len(s.To("c@soak.example")) != 0 || s.Total() != 2 {
		t.Fatalf("deliveries: b %d, c %d, total %d", len(s.To("b@soak.example")), len(s.To("c@soak.example")), s.Total())
	}
}
