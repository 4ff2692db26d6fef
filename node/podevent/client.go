package podevent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// Send delivers e to the agent listening at socket and waits for its
// reply. It returns ErrNotCaptured when the agent leaves the pod alone.
func Send(ctx context.Context, socket string, e Event) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return fmt.Errorf("podevent: agent at %s: %w", socket, err)
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	_ = c.SetDeadline(dl)
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := c.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("podevent: write: %w", err)
	}
	line, err := bufio.NewReaderSize(c, 4096).ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("podevent: read reply: %w", err)
	}
	var r Reply
	if err := json.Unmarshal(line, &r); err != nil {
		return fmt.Errorf("podevent: reply: %w", err)
	}
	if !r.OK {
		return errors.New("podevent: agent: " + r.Error)
	}
	if r.Ignored {
		return ErrNotCaptured
	}
	return nil
}

// deadline is when an exchange that starts now must end.
func deadline() time.Time { return time.Now().Add(Timeout) }
